"""The terminal table of a "Certificate findings" report."""

from __future__ import annotations

from typing import Any

from ..i18n.core import N_, _, ngettext

# The kind of card (siths.names.card_kind) in the words of Inera's guide.
CARD_WORDS = {"card": N_("SITHS card"), "reserve_card": N_("reserve card"),
              "mobile": N_("Mobile SITHS"), "function": N_("function certificate")}
STATUS_WORDS = {"ok": N_("OK"), "warning": N_("WARNING"), "error": N_("ERROR")}


def _expiry(cert: dict[str, Any] | None) -> str:
    if not cert or not cert.get("not_after"):
        return "-"
    return f"{cert['not_after'][:10]} ({cert['days_left']}d)"


def render_table(report: dict[str, Any], width: int = 60) -> list[str]:
    """A per-person table plus summary, one string per line, for a terminal."""
    head = (_("HSA-id"), _("Name"), _("Webcert"), _("Status"), _("Card"), _("Auth expires"),
            _("Sign expires"), _("First issue"))
    rows = []
    for p in report["people"]:
        first = (p["problems"] or p["warnings"] or [""])[0]
        if len(first) > width:
            first = first[: width - 1] + "…"
        rows.append(
            (
                p["hsa_id"],
                p["name"],
                _("yes") if p["uses_webcert"] else _("no"),
                _(STATUS_WORDS[p["status"]]) if p["status"] in STATUS_WORDS else p["status"],
                _(CARD_WORDS[p["card"]]) if p.get("card") in CARD_WORDS else "-",
                _expiry(p["auth"]),
                _expiry(p["sign"]),
                first,
            )
        )
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [line(head), line(tuple("-" * w for w in widths))]
    lines += [line(r) for r in rows]
    s = report["summary"]
    lines.append("")
    lines.append(ngettext(
        "%(num)s person: %(ok)s ok, %(warning)s warning, %(error)s error (%(blocking)s expected "
        "to use Webcert without a valid pair); %(unmatched)s certificate(s) match nobody; "
        "warning threshold %(days)s days",
        "%(num)s people: %(ok)s ok, %(warning)s warning, %(error)s error (%(blocking)s expected "
        "to use Webcert without a valid pair); %(unmatched)s certificate(s) match nobody; "
        "warning threshold %(days)s days",
        s["people"], ok=s["ok"], warning=s["warning"], error=s["error"], blocking=s["blocking"],
        unmatched=s["unmatched"], days=report["warn_days"]))
    for item in report["unmatched"][:20]:
        why = (item["problems"] or item.get("warnings") or [_("no person with this HSA-id")])[0]
        lines.append(_("  unmatched %(source)s: %(subject)s — %(why)s", source=item["source"],
                       subject=item["subject"] or _("(unreadable)"), why=why))
    if len(report["unmatched"]) > 20:
        lines.append(_("  ... and %(num)s more unmatched (see the JSON)",
                       num=len(report["unmatched"]) - 20))
    severity = {"error": N_("input error: %(source)s: %(message)s"),
                "warning": N_("input warning: %(source)s: %(message)s")}
    for prob in report.get("inputs", {}).get("problems", []):
        template = severity.get(prob["severity"], severity["warning"])
        lines.append("  " + _(template, source=prob["source"], message=prob["message"]))
    return lines
