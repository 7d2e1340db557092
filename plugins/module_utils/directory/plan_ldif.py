"""The plan as an LDIF change file (``ldapmodify -f``), and entries as content LDIF."""

from __future__ import annotations

import base64

from .plan import Plan


def _ldif_safe(value: str) -> bool:
    if not value:
        return True
    if value[0] in " :<" or value[-1] == " ":
        return False
    return all(0 < ord(ch) < 128 and ch not in "\r\n" for ch in value)


def ldif_line(name: str, value) -> str:
    """``name: value``, or ``name:: base64`` for non-ASCII or unsafe values."""
    if isinstance(value, bytes):
        line = f"{name}:: {base64.b64encode(value).decode('ascii')}"
    elif _ldif_safe(value):
        line = f"{name}: {value}"
    else:
        line = f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
    return _fold(line)


def _fold(line: str, width: int = 76) -> str:
    if len(line) <= width:
        return line
    parts = [line[:width]]
    rest = line[width:]
    while rest:
        parts.append(" " + rest[: width - 1])
        rest = rest[width - 1 :]
    return "\n".join(parts)


def render_ldif(plan: Plan) -> str:
    """The plan as an LDIF change file (``ldapmodify -f``) with the same effect as apply."""
    out = [
        "# HSA change file written by hsa_reconcile. Apply in order with:",
        "#   ldapmodify -H <uri> -D <bind DN> -W -f plan.ldif",
        f"# Base DN: {plan.base_dn}",
        "version: 1",
        "",
    ]
    for o in plan.operations:
        out.append(f"# {o.op} {o.kind} {o.hsa_id or ''}".rstrip())
        out.append(ldif_line("dn", o.dn))
        if o.op == "add":
            out.append("changetype: add")
            for name, values in o.attributes:
                out.extend(ldif_line(name, v) for v in values)
        elif o.op == "modify":
            out.append("changetype: modify")
            for c in o.changes:
                if c.delete:
                    out.append(f"delete: {c.attribute}")
                    out.extend(ldif_line(c.attribute, v) for v in c.delete)
                    out.append("-")
                if c.add:
                    out.append(f"add: {c.attribute}")
                    out.extend(ldif_line(c.attribute, v) for v in c.add)
                    out.append("-")
        elif o.op == "modrdn":
            out.append("changetype: modrdn")
            out.append(ldif_line("newrdn", o.new_rdn))
            out.append("deleteoldrdn: 1")
            if o.new_superior:
                out.append(ldif_line("newsuperior", o.new_superior))
        elif o.op == "delete":
            out.append("changetype: delete")
        out.append("")
    return "\n".join(out) + "\n"


def render_entries_ldif(entries) -> str:
    """Content LDIF of entries as read (for the backup written before an apply)."""
    out = ["version: 1", ""]
    for e in entries:
        out.append(ldif_line("dn", e.dn))
        for name, values in e.attributes.items():
            out.extend(ldif_line(name, v) for v in values)
        out.append("")
    return "\n".join(out) + "\n"
