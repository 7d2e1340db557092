"""Moments: every time the verifier compares is timezone-aware."""

from __future__ import annotations

import datetime as dt


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with UTC attached when it has no timezone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
