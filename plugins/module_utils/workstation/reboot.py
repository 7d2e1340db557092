"""When a Windows workstation may be restarted (pure).

A clinic PC is restarted only inside the maintenance window (``workstation_reboot_window``,
for example ``19:00-06:00`` in the host's local time), only when nobody is logged on
(unless forced), and never without ``workstation_allow_reboot``. Outside those
conditions the reboot is recorded as pending in the compliance report. The reasons and the
on-screen message are in the current language (``i18n.core``; Swedish by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..i18n.core import LANGUAGES, N_, _, ngettext, use_language
from .versions import Problem

_WINDOW = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)")


def parse_window(window: object) -> tuple[int, int] | None:
    """``"19:00-06:00"`` -> (1140, 360) minutes after midnight; ``""``/None = any time."""
    if window in (None, ""):
        return None
    match = _WINDOW.match(window) if isinstance(window, str) else None
    if not match:
        raise ValueError(_(
            "%(window)s is not a maintenance window; write it like 19:00-06:00 (host local time)",
            window=repr(window)))
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
        raise ValueError(_("%(now)s is not a clock time HH:MM", now=repr(now)))
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
        return {
            "reboot": False,
            "reason": _("restarts are not allowed (for IT: workstation_allow_reboot is false)"),
        }
    if not in_window(now, window):
        return {
            "reboot": False,
            "reason": _(
                "outside the maintenance window %(window)s (host time %(now)s)", window=window, now=now
            ),
        }
    if people and not force:
        return {
            "reboot": False,
            "reason": _(
                "logged on: %(users)s (for IT: set workstation_reboot_force to restart anyway)",
                users=", ".join(people),
            ),
        }
    return {"reboot": True, "reason": _("inside the maintenance window and nobody is logged on")}


def reboot_message(language: str | None, delay_seconds: int) -> str:
    """The message users see before the restart, in ``language`` (Swedish when unknown)."""
    minutes = max(1, round(int(delay_seconds) / 60))
    with use_language(language if language in LANGUAGES else None):
        return ngettext(
            "This computer restarts in %(num)s minute to finish installing the software for SITHS"
            " cards. Please save your work.",
            "This computer restarts in %(num)s minutes to finish installing the software for SITHS"
            " cards. Please save your work.",
            minutes,
        )


# Why a restart is wanted; the roles queue these (workstation_common_reboot_reasons,
# smartcard_reboot_reasons) and workstation_common decides once.
RESTART_REASONS = {
    "installer": N_("%(subject)s: the installer asks for a restart (exit code 3010)"),
    "uninstalled": N_("%(subject)s was uninstalled; a restart must come before the next installation"),
    "driver": N_("reader driver %(subject)s asks for a restart (pnputil exit code 3010)"),
    "windows": N_("Windows reports that a restart is pending"),
}


def restart_reason(subject: object, kind: str) -> str:
    """Why a restart is wanted (``kind`` from :data:`RESTART_REASONS`), in the current language."""
    if kind not in RESTART_REASONS:
        raise ValueError(f"unknown restart reason {kind!r} (one of {', '.join(RESTART_REASONS)})")
    return _(RESTART_REASONS[kind], subject="" if subject is None else str(subject))


def pending_reason(reasons: Iterable[str], why: str, check_mode: bool = False) -> str:
    """The restarts still wanted and why the host was not restarted, for the compliance report."""
    return _(
        "%(reasons)s (not restarted: %(why)s)",
        reasons="; ".join(str(r) for r in reasons or []),
        why=_("check mode") if check_mode else str(why or ""),
    )
