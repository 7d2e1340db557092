"""The plan as an LDIF change file (``ldapmodify -f``), and entries as content LDIF.

Written with python-ldap's ``ldif.LDIFWriter`` (RFC 2849: base64 for values that are not
safe ASCII, lines folded at 76 characters). LDIFWriter writes entries, add and modify
records; the modrdn and delete records are written by a subclass with the same line
writer.
"""

from __future__ import annotations

import functools
import io

from .plan import Plan

try:
    import ldif
except ImportError:  # the modules report python-ldap missing (client.LDAP_IMPORT_ERROR)
    ldif = None

MOD_ADD, MOD_DELETE = 0, 1  # ldap.MOD_ADD, ldap.MOD_DELETE (RFC 4511 ModifyRequest)


@functools.cache
def _change_writer():
    """LDIFWriter plus the modrdn and delete change records (RFC 2849)."""

    class ChangeWriter(ldif.LDIFWriter):
        def line(self, name: str, value) -> None:
            self._unparseAttrTypeandValue(name, _b(value))

        def modrdn(self, dn: str, new_rdn: str, new_superior: str | None) -> None:
            self.line("dn", dn)
            self.line("changetype", "modrdn")
            self.line("newrdn", new_rdn)
            self.line("deleteoldrdn", "1")
            if new_superior:
                self.line("newsuperior", new_superior)
            self._output_file.write(self._last_line_sep)

        def delete(self, dn: str) -> None:
            self.line("dn", dn)
            self.line("changetype", "delete")
            self._output_file.write(self._last_line_sep)

    return ChangeWriter


def _b(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def render_ldif(plan: Plan) -> str:
    """The plan as an LDIF change file (``ldapmodify -f``) with the same effect as apply."""
    out = io.StringIO()
    out.write("# HSA change file written by hsa_reconcile. Apply in order with:\n"
              "#   ldapmodify -H <uri> -D <bind DN> -W -f plan.ldif\n"
              f"# Base DN: {_comment(plan.base_dn)}\n"
              "version: 1\n\n")
    writer = _change_writer()(out)
    for o in plan.operations:
        out.write(f"# {o.op} {o.kind} {_comment(o.hsa_id or '')}".rstrip() + "\n")
        if o.op == "add":
            writer.unparse(o.dn, [(name, [_b(v) for v in values])
                                  for name, values in o.attributes if values])
        elif o.op == "modify":
            mods = []
            for c in o.changes:  # delete the values as read, then add: never a replace
                if c.delete:
                    mods.append((MOD_DELETE, c.attribute, [_b(v) for v in c.delete]))
                if c.add:
                    mods.append((MOD_ADD, c.attribute, [_b(v) for v in c.add]))
            writer.unparse(o.dn, mods)
        elif o.op == "modrdn":
            writer.modrdn(o.dn, o.new_rdn, o.new_superior)
        elif o.op == "delete":
            writer.delete(o.dn)
    return out.getvalue()


def _comment(text: str) -> str:
    """Text for a comment line: one line, whatever it holds."""
    return " ".join(str(text).split())


def render_entries_ldif(entries) -> str:
    """Content LDIF of entries as read (for the backup written before an apply)."""
    out = io.StringIO()
    out.write("version: 1\n\n")
    writer = ldif.LDIFWriter(out)
    for e in entries:
        writer.unparse(e.dn, {name: [_b(v) for v in values]
                              for name, values in e.attributes.items()})
    return out.getvalue()
