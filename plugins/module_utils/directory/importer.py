"""Import what is already in HSA: directory entries -> the YAML description (pure but for
writing files).

``entries_from_ldif(text)`` parses an LDIF export (python-ldap's ``ldif`` module) into
directory entries; ``import_description(entries, dest)`` writes the description in the
documented layout (docs/provider-yaml.md): ``provider.yml`` and one file per care unit
(``units/<name>.yml``: the unit, its commissions and its people), so that planning the
written description against the same entries changes nothing (exact round trip).

What the description does not manage is not lost silently: each object's values that
the model does not hold (other attributes on the entry, a ``cn`` that differs from the
full name, a time of day on a commission date) are written as comments above the
object, and entries that cannot be described (a commission directly under the care
provider) are written as commented-out YAML with the reason.

The comments and the messages are in the current language (``i18n.core.use_language``:
Swedish unless English is asked for); attribute names and values stay as HSA has them.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import unicodedata

from ..i18n.core import _
from .mapping import (
    MANAGED,
    DirectoryEntry,
    entries_to_model,
    format_generalized_time,
    make_entry,
    parse_generalized_time,
)

# Attributes never shown in the comments: the entry's structure, and binary values (the
# SITHS certificates are read by siths.yml from the directory; they are not YAML).
SILENT = {"objectclass", "hsaidentity", "usercertificate", "usercertificate;binary",
          "creatorsname", "createtimestamp", "modifiersname", "modifytimestamp",
          "entryuuid", "entrycsn", "structuralobjectclass", "subschemasubentry",
          "hassubordinates", "entrydn"}


class DescriptionImportError(ValueError):
    """The input cannot be imported (no provider, bad LDIF); the message says why."""


def entries_from_ldif(text: str | bytes, source: str = "LDIF") -> list[DirectoryEntry]:
    """Content records of an LDIF file as DirectoryEntry objects (change records refused)."""
    import ldif  # python-ldap

    data = text.encode("utf-8") if isinstance(text, str) else text
    parser = ldif.LDIFRecordList(io.BytesIO(data), process_url_schemes=[])
    try:
        parser.parse()
    except ValueError as exc:
        raise DescriptionImportError(_("%(source)s: not a valid LDIF file (%(error)s)",
                                       source=source, error=exc)) from exc
    out = []
    for dn, attrs in parser.all_records:
        if not dn:
            continue
        if "changetype" in {k.lower() for k in attrs}:
            raise DescriptionImportError(_(
                "%(source)s: %(dn)s is a change record (changetype); ask for an export of the "
                "entries instead (content LDIF, e.g. ldapsearch -LLL)", source=source, dn=dn))
        out.append(make_entry(dn, {k: v for k, v in attrs.items()
                                   if not k.lower().startswith("usercertificate")}))
    return out


def _slug(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text[:60] or "unit"


_PLAIN = re.compile(r"^[^\W\d_][\w .'()/@+-]*$")
_NOT_PLAIN = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}


def _scalar(value) -> str:
    """A YAML scalar: plain when YAML reads it back as the same string, else quoted
    (double-quoted JSON strings are YAML double-quoted scalars). Dates as YYYY-MM-DD."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if (_PLAIN.match(text) and not text.endswith((" ", ":")) and ": " not in text
            and " #" not in text and text.lower() not in _NOT_PLAIN):
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _dump_item(data: dict, indent: str = "  ") -> str:
    """One list item (``- key: value`` ...), indented under a top-level key. Lists of
    mappings and commission members are block lists (one a line, so git diffs show who
    came and went), other lists flow lists (the style of docs/provider-yaml.md)."""
    lines = []
    for i, (key, value) in enumerate(data.items()):
        lead = f"{indent}- " if i == 0 else f"{indent}  "
        if isinstance(value, (list, tuple)) and value and (
                isinstance(value[0], dict) or key == "members"):
            lines.append(f"{lead}{key}:")
            lines.extend(f"{indent}    - {_flow(v)}" for v in value)
        else:
            lines.append(f"{lead}{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _comment_lines(lines: list[str], indent: str = "  ") -> str:
    return "".join(f"{indent}# {line}\n" for line in lines)


def _unmanaged(entry: DirectoryEntry, kind: str) -> list[str]:
    managed = {a.lower() for a in MANAGED[kind]}
    notes = []
    for name, values in entry.attributes.items():
        low = name.lower()
        if low in managed or low in SILENT:
            continue
        shown = ", ".join(v if len(v) <= 80 else v[:77] + "..." for v in values)
        notes.append(f"{name}: {shown}")
    return sorted(notes)


def _person_dict(p) -> dict:
    d: dict = {"hsa_id": p.hsa_id, "given_name": p.given_name, "surname": p.surname}
    default_full = " ".join(x for x in (p.given_name, p.surname) if x)
    if p.full_name and p.full_name != default_full:
        d["full_name"] = p.full_name
    if p.titles:
        d["titles"] = list(p.titles)
    if p.prescriber_code:
        d["prescriber_code"] = p.prescriber_code
    if p.group_prescriber_codes:
        d["group_prescriber_codes"] = list(p.group_prescriber_codes)
    if p.specialities:
        d["specialities"] = [
            {k: v for k, v in (("code", s.code), ("name", s.name),
                               ("licence_code", s.licence_code)) if v}
            for s in p.specialities]
    if p.positions:
        d["positions"] = [{k: v for k, v in (("code", pos.code), ("name", pos.name)) if v}
                          for pos in p.positions]
    if p.unit:
        d["unit"] = p.unit
    if p.mail:
        d["mail"] = p.mail
    return d


def _commission_dict(c) -> dict:
    d: dict = {"hsa_id": c.hsa_id, "name": c.name, "unit": c.unit, "purpose": c.purpose}
    if c.rights:
        d["rights"] = list(c.rights)
    d["members"] = list(c.members)
    if c.valid_from:
        d["valid_from"] = c.valid_from
    if c.valid_to:
        d["valid_to"] = c.valid_to
    return d


def _unit_dict(u) -> dict:
    d: dict = {"hsa_id": u.hsa_id, "name": u.name}
    if u.email:
        d["email"] = u.email
    d["workplace_codes"] = list(u.workplace_codes)
    if u.parent:
        d["parent"] = u.parent
    return d


def _person_notes(entry: DirectoryEntry, p) -> list[str]:
    notes = _unmanaged(entry, "person")
    cn = entry.get("cn")
    if cn and p.full_name and any(v != p.full_name for v in cn):
        notes.append(_("cn: %(value)s (the description writes cn = the full name)",
                       value=", ".join(cn)))
    codes, names = entry.get("paTitleCode"), entry.get("paTitleName")
    if codes and names and len(codes) != len(names):
        notes.append(_("the position codes and the position names differ in number; they "
                       "are paired in the order the directory sent them (for IT: paTitleCode, "
                       "paTitleName)"))
    return notes


def _commission_notes(entry: DirectoryEntry) -> list[str]:
    notes = _unmanaged(entry, "commission")
    for attr in ("hsaStartDate", "hsaEndDate"):
        for v in entry.get(attr):
            stamp = parse_generalized_time(v)
            if stamp is None or format_generalized_time(stamp.date()) != format_generalized_time(
                    stamp):
                notes.append(_("%(attribute)s: %(value)s (the description keeps the date only)",
                               attribute=attr, value=v))
    return notes


def render_description(entries, source: str = "HSA") -> dict[str, str]:
    """The description files (relative path -> YAML text) for the entries of one provider."""
    entries = list(entries)
    model = entries_to_model(entries)
    if model is None:
        raise DescriptionImportError(_(
            "%(source)s: no care provider (vårdgivare) was found; for IT: no entry with "
            "objectClass hsaHealthCareProvider", source=source))
    by_id = {e.hsa_id: e for e in entries if e.hsa_id}
    prov = model.provider
    header = _comment_lines(_(
        "Imported from %(source)s. Check it, then keep it in git: from now on this\n"
        "description is what HSA must hold (docs/provider-yaml.md).", source=source
    ).splitlines(), "")
    pentry = by_id.get(prov.hsa_id)
    provider_part = {"hsa_id": prov.hsa_id, "name": prov.name, "org_no": prov.org_no or ""}
    files: dict[str, str] = {}
    text = header + _comment_lines(_unmanaged(pentry, "provider") if pentry else [], "")
    text += "provider:\n" + "".join(f"  {k}: {_scalar(v)}\n" for k, v in provider_part.items())
    text += _comment_lines([_("Not in HSA: where the Webcert onboarding stands "
                              "(Inera's guide).")])
    text += ("  onboarding:\n    registration_sent:\n    agreement_signed:\n"
             "    technical_order:\n")
    top_people = [p for p in model.people if not p.unit]
    if top_people:
        text += _comment_lines([_("People directly under the care provider (not under a care "
                                  "unit).")], "") + "people:\n"
        for p in top_people:
            text += _comment_lines(_person_notes(by_id[p.hsa_id], p))
            text += _dump_item(_person_dict(p))
    loose = [c for c in model.commissions if not c.unit]
    if loose:
        text += _comment_lines(_(
            "Commissions directly under the care provider: the description places\n"
            "every commission on a care unit, so these are not managed here:").splitlines(), "")
        for c in loose:
            text += _comment_lines(_dump_item(_commission_dict(c)).splitlines(), "")
    files["provider.yml"] = text

    people_of: dict[str, list] = {}
    for p in model.people:
        if p.unit:
            people_of.setdefault(p.unit, []).append(p)
    commissions_of: dict[str, list] = {}
    for c in model.commissions:
        if c.unit:
            commissions_of.setdefault(c.unit, []).append(c)
    used: set[str] = set()
    for u in model.units:
        name = _slug(u.name)
        if name in used:
            name = f"{name}-{_slug(u.hsa_id)}"
        used.add(name)
        out = [_comment_lines([_("%(name)s (%(hsa_id)s): the care unit, its commissions and "
                                 "its people.", name=u.name, hsa_id=u.hsa_id)], "")]
        out.append(_comment_lines(_unmanaged(by_id[u.hsa_id], "unit"), ""))
        out.append("units:\n")
        out.append(_dump_item(_unit_dict(u)))
        coms = commissions_of.get(u.hsa_id, [])
        out.append("\ncommissions:\n" if coms else "\ncommissions: []\n")
        for c in coms:
            out.append(_comment_lines(_commission_notes(by_id[c.hsa_id])))
            out.append(_dump_item(_commission_dict(c)))
        people = people_of.get(u.hsa_id, [])
        out.append("\npeople:\n" if people else "\npeople: []\n")
        for p in people:
            out.append(_comment_lines(_person_notes(by_id[p.hsa_id], p)))
            out.append(_dump_item(_person_dict(p)))
        files[f"units/{name}.yml"] = "".join(out)
    return files


def write_description(files: dict[str, str], dest: str) -> list[str]:
    """Write the files into ``dest`` (created; must not hold a description yet), all or
    nothing: they are written to a temporary folder next to it, then moved in."""
    dest = os.path.abspath(dest)
    if os.path.isdir(dest) and any(n.endswith((".yml", ".yaml"))
                                   for _r, _d, names in os.walk(dest) for n in names):
        raise DescriptionImportError(_(
            "%(dest)s already holds YAML files; import into an empty folder (then compare "
            "and merge with git)", dest=dest))
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".hsa-import-", dir=parent)
    try:
        for rel, text in files.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        if os.path.isdir(dest):
            for rel in files:
                target = os.path.join(dest, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(os.path.join(tmp, rel), target)
        else:
            os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(os.path.join(dest, rel) for rel in files)
