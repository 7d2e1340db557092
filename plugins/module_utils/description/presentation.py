"""Findings for a person: labelled, errors apart from warnings, and never a flood.

A terminal (or a CI log) gets at most ``PRINT_LIMIT`` findings, errors first, each with
its label (FEL / VARNING), and one closing sentence with how many more there are and
where the full list is; ``report_text`` is that full list, for a file.
"""

from __future__ import annotations

from .model import (
    ERROR,
    WARNING,
)
from .text import (
    visible,
)

PRINT_LIMIT = 50
LABELS = {ERROR: "FEL", WARNING: "VARNING"}


def labelled(finding) -> str:
    return f"{LABELS.get(finding.severity, finding.severity.upper())}: {finding}"


def _more_sentence(errors: int, warnings: int, report_file: str | None) -> str | None:
    """The closing line, as whole sentences (one per case, for the translation catalog)."""
    where = f" Hela listan finns i {report_file}." if report_file else ""
    if errors and warnings == 1:
        return f"… och {errors} fel och 1 varning till.{where}"
    if errors and warnings:
        return f"… och {errors} fel och {warnings} varningar till.{where}"
    if errors:
        return f"… och {errors} fel till.{where}"
    if warnings == 1:
        return f"… och 1 varning till.{where}"
    if warnings:
        return f"… och {warnings} varningar till.{where}"
    return None


def terminal_view(result, limit: int = PRINT_LIMIT, report_file: str | None = None) -> dict:
    """``{"errors": [...], "warnings": [...], "more": str | None}``: the labelled lines to
    print (at most ``limit`` in all, errors first) and the closing sentence."""
    errors = [f for f in result.findings if f.severity == ERROR]
    warnings = [f for f in result.findings if f.severity == WARNING]
    shown_errors = errors[:limit]
    shown_warnings = warnings[: max(0, limit - len(shown_errors))]
    more_errors = result.count(ERROR) - len(shown_errors)
    more_warnings = result.count(WARNING) - len(shown_warnings)
    return {
        "errors": [labelled(f) for f in shown_errors],
        "warnings": [labelled(f) for f in shown_warnings],
        "more": _more_sentence(more_errors, more_warnings, report_file),
    }


def needs_report(result, limit: int = PRINT_LIMIT) -> bool:
    """True when the terminal view leaves findings out."""
    return result.count(ERROR) + result.count(WARNING) > limit


def report_text(result) -> str:
    """Every collected finding, labelled, errors first; then the kinds that were only
    counted (more than ``KEEP_PER_KIND`` of one kind)."""
    lines = [labelled(f) for f in result.findings if f.severity == ERROR]
    lines += [labelled(f) for f in result.findings if f.severity == WARNING]
    for (severity, path, message), count in sorted(result.uncollected.items()):
        label = LABELS.get(severity, severity.upper())
        lines.append(
            visible(f"{label}: ytterligare {count} av samma slag ({path}: {message}) räknades "
                    "men listas inte.")
        )
    return "\n".join(lines) + "\n"
