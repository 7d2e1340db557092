"""The plan as readable text: the diff a person reviews, and Ansible's diff mode.

The text is in the current language (``i18n.core.use_language``, Swedish by default).
Each attribute is named as HSA Admin names the field, with the LDAP attribute after it
for IT ("Efternamn (sn)"); the DNs stay as LDAP has them."""

from __future__ import annotations

from ..description.text import (
    visible,
)
from ..i18n.core import N_, _, ngettext
from .change_request import FIELDS
from .plan import Plan

# The HSA Admin field of an attribute, per kind of object (the change request's names).
_LABELS = {kind: dict(fields) for kind, fields in FIELDS.items()}
for _fields in _LABELS.values():
    _fields.setdefault("hsaIdentity", N_("HSA-id"))
    _fields.setdefault("hsaResponsibleHealthCareProvider", N_("Care provider"))

# One whole line per operation; %(kind)s is one of KINDS, %(id)s the HSA-id (may be empty).
_OPERATION_LINES = {
    "add": N_("+ add %(kind)s %(id)s: %(dn)s"),
    "modify": N_("~ modify %(kind)s %(id)s: %(dn)s"),
    "modrdn": N_("> modrdn %(kind)s %(id)s: %(dn)s"),
    "delete": N_("- delete %(kind)s %(id)s: %(dn)s"),
}
_REFUSED_LINES = {
    "add": N_("! refused add %(kind)s %(id)s: %(dn)s"),
    "modify": N_("! refused modify %(kind)s %(id)s: %(dn)s"),
    "modrdn": N_("! refused modrdn %(kind)s %(id)s: %(dn)s"),
    "delete": N_("! refused delete %(kind)s %(id)s: %(dn)s"),
}
KINDS = {
    "provider": N_("provider"),
    "unit": N_("unit"),
    "person": N_("person"),
    "commission": N_("commission"),
}


def _fmt(values) -> str:
    if not values:
        return _("(none)")
    if len(values) == 1:
        return f'"{visible(values[0])}"'
    return "[" + ", ".join(f'"{visible(v)}"' for v in values) + "]"


def _head(lines: dict, op: str, kind: str | None, hsa_id: str | None, dn: str) -> str:
    label = _(KINDS[kind]) if kind in KINDS else (kind or "")
    line = _(lines[op], kind=label, id=hsa_id or "", dn="\0")
    # An entry without a kind or an HSA-id (a plain LDAP entry) leaves no double spaces;
    # the DN is put in afterwards, exactly as it is.
    line = " ".join(line.split()).replace(" :", ":").replace(":\0", ": \0")
    return visible(line.replace("\0", dn))


def summary(plan: Plan) -> str:
    """The last line of the plan text: how many changes, refusals and unmanaged entries."""
    c = plan.counts
    params = {"add": c["add"], "modify": c["modify"], "modrdn": c["modrdn"],
              "delete": c["delete"], "refused": len(plan.refused),
              "unmanaged": len(plan.unmanaged)}
    n = params["unmanaged"]
    if plan.refused:
        return ngettext(
            "Plan: %(add)s to add, %(modify)s to modify, %(modrdn)s to move or rename, "
            "%(delete)s to delete; %(refused)s refused (referral); %(unmanaged)s "
            "unmanaged entry.",
            "Plan: %(add)s to add, %(modify)s to modify, %(modrdn)s to move or rename, "
            "%(delete)s to delete; %(refused)s refused (referral); %(unmanaged)s "
            "unmanaged entries.", n, **params)
    return ngettext(
        "Plan: %(add)s to add, %(modify)s to modify, %(modrdn)s to move or rename, "
        "%(delete)s to delete; %(unmanaged)s unmanaged entry.",
        "Plan: %(add)s to add, %(modify)s to modify, %(modrdn)s to move or rename, "
        "%(delete)s to delete; %(unmanaged)s unmanaged entries.", n, **params)


def _labels(kind: str | None) -> dict[str, str]:
    """attribute -> "Field (attribute)" in the current language, for one kind of object."""
    return {attr: f"{_(label)} ({attr})" for attr, label in _LABELS.get(kind or "", {}).items()}


def render_text(plan: Plan) -> str:
    """The plan as a readable diff: per object, per attribute, before → after. Every value
    (from the description or the directory) is shown with visible escapes (``\\n``)."""
    lines = []
    by_kind = {kind: _labels(kind) for kind in _LABELS}
    for o in plan.operations:
        lines.append(_head(_OPERATION_LINES, o.op, o.kind, o.hsa_id, o.dn))
        labels = by_kind.get(o.kind or "", {})
        if o.op == "add":
            for name, values in o.attributes:
                if name != "objectClass":
                    lines.append(f"    {labels.get(name) or name}: {_fmt(values)}")
        elif o.op == "modify":
            for c in o.changes:
                lines.append(f"    {labels.get(c.attribute) or c.attribute}: {_fmt(c.before)} → "
                             f"{_fmt(c.after)}")
        elif o.op == "modrdn":
            lines.append(f"    → {visible(o.new_dn)}")
    for r in plan.refused:
        lines.append(_head(_REFUSED_LINES, r["op"], r["kind"], r["hsa_id"], r["dn"]))
        lines.append(f"    {visible(r['message'])}")
    lines.append(summary(plan))
    return "\n".join(lines) + "\n"


def diff_for_ansible(plan: Plan) -> dict:
    """Ansible diff mode: the readable text, prepared."""
    return {"prepared": render_text(plan)}
