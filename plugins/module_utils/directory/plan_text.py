"""The plan as readable text: the diff a person reviews, and Ansible's diff mode."""

from __future__ import annotations

from ..description.text import (
    visible,
)
from .plan import Plan


def _fmt(values) -> str:
    if not values:
        return "(none)"
    if len(values) == 1:
        return f'"{visible(values[0])}"'
    return "[" + ", ".join(f'"{visible(v)}"' for v in values) + "]"


def render_text(plan: Plan) -> str:
    """The plan as a readable diff: per object, per attribute, before → after. Every value
    (from the description or the directory) is shown with visible escapes (``\\n``)."""
    lines = []
    sign = {"add": "+", "modify": "~", "modrdn": ">", "delete": "-"}
    for o in plan.operations:
        lines.append(visible(f"{sign[o.op]} {o.op} {o.kind} {o.hsa_id or ''}: {o.dn}".rstrip()))
        if o.op == "add":
            for name, values in o.attributes:
                if name != "objectClass":
                    lines.append(f"    {name}: {_fmt(values)}")
        elif o.op == "modify":
            for c in o.changes:
                lines.append(f"    {c.attribute}: {_fmt(c.before)} → {_fmt(c.after)}")
        elif o.op == "modrdn":
            lines.append(f"    → {visible(o.new_dn)}")
    for r in plan.refused:
        lines.append(visible(f"! refused {r['op']} {r['kind']} {r['hsa_id'] or ''}: {r['dn']}"))
        lines.append(f"    {visible(r['message'])}")
    c = plan.counts
    refused = f"; {len(plan.refused)} refused (referral)" if plan.refused else ""
    lines.append(
        f"Plan: {c['add']} to add, {c['modify']} to modify, {c['modrdn']} to move or rename, "
        f"{c['delete']} to delete{refused}; {len(plan.unmanaged)} unmanaged entries."
    )
    return "\n".join(lines) + "\n"


def diff_for_ansible(plan: Plan) -> dict:
    """Ansible diff mode: the readable text, prepared."""
    return {"prepared": render_text(plan)}
