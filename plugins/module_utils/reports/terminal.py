"""Terminal output shared by the playbooks: never cut a listing silently (pure, no I/O)."""

from __future__ import annotations

from ..i18n.core import ngettext


def excerpt(text: str, limit: int, path: str | None = None) -> list[str]:
    """The first ``limit`` lines of ``text``; when lines are left out, a last line says how
    many and where the whole text is ("… och 12 rader till, se reports/hsa-plan.txt")."""
    lines = (text or "").splitlines()
    limit = max(int(limit), 0)
    if len(lines) <= limit:
        return lines
    rest = len(lines) - limit
    if path:
        tail = ngettext("… and %(num)s more line, see %(path)s",
                        "… and %(num)s more lines, see %(path)s", rest, path=path)
    else:
        tail = ngettext("… and %(num)s more line", "… and %(num)s more lines", rest)
    return [*lines[:limit], tail]
