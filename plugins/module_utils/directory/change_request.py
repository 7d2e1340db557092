"""The plan as a change request for the HSA agent (ombud): Markdown and CSV."""

from __future__ import annotations

import csv
import io

from ..description.text import (
    visible,
)
from .plan import Plan

KIND_NAMES = {  # Swedish HSA names, for people who talk to the HSA agent
    "provider": "care provider (vårdgivare)",
    "unit": "care unit (vårdenhet)",
    "person": "person (person)",
    "commission": "commission (medarbetaruppdrag)",
}


def _md(value) -> str:
    text = ", ".join(value) if isinstance(value, (list, tuple)) else str(value or "")
    return visible(text).replace("|", "\\|") or "–"


def render_change_request(
    plan: Plan, provider_name: str = "", provider_id: str = "", generated: str = ""
) -> str:
    """A change request in Markdown for the HSA agent (ombud) who registers the changes."""
    c = plan.counts
    provider_name, provider_id = visible(provider_name), visible(provider_id)
    lines = [
        f"# HSA change request{(' — ' + provider_name) if provider_name else ''}",
        "",
        f"- Care provider (vårdgivare): {provider_name or '–'} ({provider_id or '–'})",
        f"- Directory base DN: `{plan.base_dn}`",
    ]
    if generated:
        lines.append(f"- Prepared: {generated}")
    lines += [
        f"- Changes: {c['add']} new, {c['modify']} changed, {c['modrdn']} renamed or moved, "
        f"{c['delete']} removed",
        "",
        "Please register the changes below in HSA, in this order. The same changes are in "
        "`plan.ldif` (LDIF) for tools that read it. Values are exactly as they must be "
        "stored.",
        "",
    ]
    if not plan.operations:
        lines.append("No changes are needed: HSA already matches the description.")
    for i, o in enumerate(plan.operations, 1):
        what = KIND_NAMES.get(o.kind, o.kind)
        verb = {"add": "Create", "modify": "Change", "modrdn": "Rename/move", "delete": "Remove"}[
            o.op
        ]
        lines += [visible(f"## {i}. {verb} {what} {o.hsa_id or ''}".rstrip()), "",
                  f"Entry: `{visible(o.dn)}`", ""]
        if o.op == "add":
            lines += ["| attribute | value |", "|---|---|"]
            lines += [f"| {n} | {_md(v)} |" for n, v in o.attributes if n != "objectClass"]
        elif o.op == "modify":
            lines += ["| attribute | now | should be |", "|---|---|---|"]
            lines += [
                f"| {ch.attribute} | {_md(ch.before)} | {_md(ch.after)} |" for ch in o.changes
            ]
        elif o.op == "modrdn":
            lines.append(f"New name/place: `{visible(o.new_dn)}`")
        elif o.op == "delete":
            lines.append("Remove this entry (it is no longer in the description).")
        lines.append("")
    if plan.refused:
        lines += [
            "## Not in this request: held by another server (referral)",
            "",
            "These changes are below a part of the directory that this server refers to "
            "another server, so they could not be checked here:",
            "",
        ]
        lines += [f"- `{visible(r['dn'])}`: {_md(r['message'])}" for r in plan.refused]
        lines.append("")
    return "\n".join(lines) + "\n"


def render_change_csv(plan: Plan) -> str:
    """One row per attribute change: step, operation, kind, HSA-id, DN, attribute, before, after."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "operation", "kind", "hsa_id", "dn", "attribute", "before", "after"])
    for i, o in enumerate(plan.operations, 1):
        if o.op == "add":
            for n, v in o.attributes:
                if n != "objectClass":
                    w.writerow([i, o.op, o.kind, o.hsa_id, o.dn, n, "", "|".join(v)])
        elif o.op == "modify":
            for ch in o.changes:
                w.writerow(
                    [
                        i,
                        o.op,
                        o.kind,
                        o.hsa_id,
                        o.dn,
                        ch.attribute,
                        "|".join(ch.before),
                        "|".join(ch.after),
                    ]
                )
        elif o.op == "modrdn":
            w.writerow([i, o.op, o.kind, o.hsa_id, o.dn, "dn", o.dn, o.new_dn])
        else:
            w.writerow([i, o.op, o.kind, o.hsa_id, o.dn, "", "", ""])
    return buf.getvalue()
