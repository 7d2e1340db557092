"""When a Windows workstation may be restarted (pure).

A clinic PC is restarted only inside the maintenance window (``workstation_reboot_window``,
for example ``19:00-06:00`` in the host's local time), only when nobody is logged on
(unless forced), and never without ``workstation_allow_reboot``. Outside those
conditions the reboot is recorded as pending in the compliance report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .versions import Problem

_WINDOW = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)")


def parse_window(window: object) -> tuple[int, int] | None:
    """``"19:00-06:00"`` -> (1140, 360) minutes after midnight; ``""``/None = any time."""
    if window in (None, ""):
        return None
    match = _WINDOW.match(window) if isinstance(window, str) else None
    if not match:
        raise ValueError(
            f"{window!r} is not a maintenance window; write it like 19:00-06:00 (host local time)"
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def window_problems(window: object, path: str = "workstation_reboot_window") -> list[Problem]:
    try:
        parse_window(window)
    except ValueError as exc:
        return [Problem(path, str(exc))]
    return []


def in_window(now: str, window: object) -> bool:
    """Whether the host's local clock ``now`` (``HH:MM``) is inside ``window``; windows
    may pass midnight (``19:00-06:00``)."""
    bounds = parse_window(window)
    if bounds is None:
        return True
    match = _CLOCK.match(now or "")
    if not match:
        raise ValueError(f"{now!r} is not a clock time HH:MM")
    minute = int(match.group(1)) * 60 + int(match.group(2))
    start, end = bounds
    if start == end:
        return True
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def reboot_decision(
    now: str,
    window: object,
    users: Iterable[str] | None,
    allow: bool,
    force: bool = False,
) -> dict:
    """``{reboot: bool, reason: str}``: restart now, or leave it pending and say why."""
    people = sorted({str(u) for u in users or [] if u})
    if not allow:
        return {"reboot": False, "reason": "workstation_allow_reboot is false"}
    if not in_window(now, window):
        return {
            "reboot": False,
            "reason": f"outside the maintenance window {window} (host time {now})",
        }
    if people and not force:
        return {
            "reboot": False,
            "reason": "logged on: " + ", ".join(people) + " (set workstation_reboot_force to restart anyway)",
        }
    return {"reboot": True, "reason": "inside the maintenance window and nobody is logged on"}


MESSAGES = {
    "sv": (
        "Datorn startas om om {minutes} minuter för att slutföra installationen av"
        " programvara för SITHS-kort. Spara ditt arbete."
    ),
    "en": (
        "This computer restarts in {minutes} minutes to finish installing the SITHS card"
        " software. Please save your work."
    ),
}


def reboot_message(language: str, delay_seconds: int) -> str:
    minutes = max(1, round(int(delay_seconds) / 60))
    return MESSAGES.get(language, MESSAGES["sv"]).format(minutes=minutes)
