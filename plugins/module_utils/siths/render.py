"""The terminal table of a "Certificate findings" report."""

from __future__ import annotations

from typing import Any

# The kind of card (siths.names.card_kind) in the words of Inera's guide.
CARD_WORDS = {"card": "SITHS-kort", "reserve_card": "reservkort", "mobile": "Mobilt SITHS",
              "function": "funktionscertifikat"}


def _expiry(cert: dict[str, Any] | None) -> str:
    if not cert or not cert.get("not_after"):
        return "-"
    return f"{cert['not_after'][:10]} ({cert['days_left']}d)"


def render_table(report: dict[str, Any], width: int = 60) -> list[str]:
    """A per-person table plus summary, one string per line, for a terminal."""
    head = ("HSA-id", "Name", "Webcert", "Status", "Card", "Auth expires", "Sign expires",
            "First issue")
    rows = []
    for p in report["people"]:
        first = (p["problems"] or p["warnings"] or [""])[0]
        if len(first) > width:
            first = first[: width - 1] + "…"
        rows.append(
            (
                p["hsa_id"],
                p["name"],
                "yes" if p["uses_webcert"] else "no",
                p["status"].upper(),
                CARD_WORDS.get(p.get("card") or "", "-"),
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
    lines.append(
        f"{s['people']} people: {s['ok']} ok, {s['warning']} warning, {s['error']} "
        f"error ({s['blocking']} expected to use Webcert without a valid pair); "
        f"{s['unmatched']} certificate(s) match nobody; warning threshold "
        f"{report['warn_days']} days"
    )
    for item in report["unmatched"][:20]:
        why = (item["problems"] or item.get("warnings") or ["no person with this HSA-id"])[0]
        lines.append(f"  unmatched {item['source']}: {item['subject'] or '(unreadable)'} — {why}")
    if len(report["unmatched"]) > 20:
        lines.append(f"  ... and {len(report['unmatched']) - 20} more unmatched (see the JSON)")
    for prob in report.get("inputs", {}).get("problems", []):
        lines.append(f"  input {prob['severity']}: {prob['source']}: {prob['message']}")
    return lines
