"""Findings for a person: labelled, errors apart from warnings, and never a flood.

A terminal (or a CI log) gets at most ``PRINT_LIMIT`` findings, errors first, each with
its label (FEL / VARNING in Swedish, ERROR / WARNING in English), and one closing
sentence with how many more there are and where the full list is; ``report_text`` is
that full list, for a file. The sentences come from the message catalog
(``i18n.core``): call these inside ``use_language(...)``.
"""

from __future__ import annotations

from ..i18n.core import (
    N_,
    _,
    ngettext,
)
from .model import (
    ERROR,
    WARNING,
)
from .text import (
    visible,
)

PRINT_LIMIT = 50
LABELS = {ERROR: N_("ERROR"), WARNING: N_("WARNING")}


def label(severity: str) -> str:
    return _(LABELS[severity]) if severity in LABELS else severity.upper()


def labelled(finding) -> str:
    return f"{label(finding.severity)}: {finding}"


def _more_sentence(errors: int, warnings: int) -> str | None:
    """The closing line, as whole sentences (one per case)."""
    if errors and warnings:
        return ngettext("… and %(errors)s more errors and %(num)s more warning.",
                        "… and %(errors)s more errors and %(num)s more warnings.",
                        warnings, errors=errors)
    if errors:
        return ngettext("… and %(num)s more error.", "… and %(num)s more errors.", errors)
    if warnings:
        return ngettext("… and %(num)s more warning.", "… and %(num)s more warnings.",
                        warnings)
    return None


def terminal_view(result, limit: int = PRINT_LIMIT, report_file: str | None = None) -> dict:
    """``{"errors": [...], "warnings": [...], "more": str | None}``: the labelled lines to
    print (at most ``limit`` in all, errors first) and the closing sentence."""
    errors = [f for f in result.findings if f.severity == ERROR]
    warnings = [f for f in result.findings if f.severity == WARNING]
    shown_errors = errors[:limit]
    shown_warnings = warnings[: max(0, limit - len(shown_errors))]
    more = _more_sentence(result.count(ERROR) - len(shown_errors),
                          result.count(WARNING) - len(shown_warnings))
    if more and report_file:
        more += " " + _("The full list is in %(file)s.", file=report_file)
    return {
        "errors": [labelled(f) for f in shown_errors],
        "warnings": [labelled(f) for f in shown_warnings],
        "more": more,
    }


def failure_line(result, description: str) -> str | None:
    """The one line a failed validation ends with: the description and its first error."""
    errors = result.count(ERROR)
    if not errors:
        return None
    first = next(f for f in result.findings if f.severity == ERROR)
    return ngettext(
        "The description %(path)s has %(num)s error: %(first)s",
        "The description %(path)s has %(num)s errors (all listed above); the first: %(first)s",
        errors, path=description, first=labelled(first))


def needs_report(result, limit: int = PRINT_LIMIT) -> bool:
    """True when the terminal view leaves findings out."""
    return result.count(ERROR) + result.count(WARNING) > limit


def report_text(result) -> str:
    """Every collected finding, labelled, errors first; then the kinds that were only
    counted (more than ``model.KEEP_PER_KIND`` of one kind)."""
    lines = [labelled(f) for f in result.findings if f.severity == ERROR]
    lines += [labelled(f) for f in result.findings if f.severity == WARNING]
    for (severity, path, message), count in sorted(result.uncollected.items()):
        lines.append(visible(ngettext(
            "%(label)s: %(num)s more of the same kind (%(path)s: %(message)s) was counted "
            "but is not listed.",
            "%(label)s: %(num)s more of the same kind (%(path)s: %(message)s) were counted "
            "but are not listed.",
            count, label=label(severity), path=path, message=message)))
    return "\n".join(lines) + "\n"
