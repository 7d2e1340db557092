"""The plan as a change request for the HSA agent (ombud): Markdown, HTML and CSV.

Both modes write it: the ombud mode (hsa_baseline, a plan from a baseline) and the
directory mode (hsa_reconcile with ``export_dir``, a plan against a directory). Every
value from the description or the directory is shown through ``visible()``: a line
break or a bidirectional override in a stored value cannot forge a line or reorder
letters in what the ombud reads.
"""

from __future__ import annotations

import csv
import io

from ..description.text import (
    visible,
)
from ..i18n.core import N_, _, render_template
from .mapping import normalize_dn, parent_dn, parse_generalized_time
from .plan import AttributeChange, Operation, Plan

# --------------------------------------------------------------------------- for the ombud
# The change request an HSA agent (ombud) can act on as it is: grouped per object (care
# provider, care units, people, commissions), each named with its name and HSA-id, fields
# in HSA Admin's words, only the delta of multi-valued fields, and the leavers with what
# to end. ``build_change_request`` makes the data (pure); the renderers write Markdown and
# HTML (Jinja2 templates, autoescape) and a CSV that Swedish Excel opens as it is.

# HSA Admin's field names (msgids; Swedish in locale/sv), per kind and LDAP attribute. cn
# of a person is its full name again, objectClass and the placement attributes are the
# directory's business: neither is shown.
FIELDS = {
    "provider": (("o", N_("Name")), ("orgNo", N_("Organisation number"))),
    "unit": (("ou", N_("Name")), ("mail", N_("E-mail")),
             ("unitPrescriptionCode", N_("Workplace code")),
             ("hsaHealthCareUnitMember", N_("Sub-units"))),
    "person": (("givenName", N_("First name")), ("sn", N_("Surname")),
               ("fullName", N_("Full name")), ("hsaTitle", N_("Licensed profession")),
               ("personalPrescriptionCode", N_("Prescriber code")),
               ("hsaGroupPrescriptionCode", N_("Group prescriber code")),
               ("paTitleCode", N_("Position code")), ("paTitleName", N_("Position")),
               ("hsaSosTitleCodeSpeciality", N_("Speciality")), ("mail", N_("E-mail"))),
    "commission": (("cn", N_("Name")), ("hsaCommissionPurpose", N_("Purpose")),
                   ("hsaCommissionMember", N_("Members")),
                   ("hsaCommissionRight", N_("Rights")),
                   ("hsaStartDate", N_("Start date")), ("hsaEndDate", N_("End date"))),
}
MULTI_VALUED = {"unitPrescriptionCode", "hsaHealthCareUnitMember", "hsaTitle",
                "hsaGroupPrescriptionCode", "paTitleCode", "paTitleName",
                "hsaSosTitleCodeSpeciality", "hsaCommissionMember", "hsaCommissionRight"}
SECTIONS = (("provider", N_("Care provider")), ("unit", N_("Care units")),
            ("person", N_("People")), ("commission", N_("Commissions")))
ORDER = {"provider": 0, "unit": 1, "person": 2, "commission": 3}


def _names(*models) -> dict[str, dict]:
    """hsa_id -> {name, unit} from the description(s); the first model wins."""
    out: dict[str, dict] = {}
    for model in models:
        if model is None:
            continue
        units = {u.hsa_id: u.name for u in model.units}
        out.setdefault(model.provider.hsa_id, {"name": model.provider.name, "unit": None})
        for u in model.units:
            out.setdefault(u.hsa_id, {"name": u.name, "unit": None, "parent": units.get(u.parent)})
        for p in model.people:
            name = p.full_name or " ".join(x for x in (p.given_name, p.surname) if x)
            out.setdefault(p.hsa_id, {"name": name, "unit": units.get(p.unit)})
        for c in model.commissions:
            out.setdefault(c.hsa_id, {"name": c.name, "unit": units.get(c.unit)})
    return out


_NAME_ATTRIBUTES = {"provider": ("o",), "unit": ("ou",), "person": ("fullName", "cn"),
                    "commission": ("cn",)}


def _entry_names(entries, out: dict[str, dict]) -> None:
    """Add hsa_id -> {name, unit} from directory entries (``mapping.DesiredEntry`` or
    ``mapping.DirectoryEntry``: the desired entries first, then what the directory
    holds), for a plan made against a directory, where no model names the entries: the
    names and the care unit (the nearest unit above the entry) come from the entries."""
    entries = list(entries)
    units: dict[str, str] = {}

    def values(e, attribute):
        if isinstance(getattr(e, "attributes", None), dict):
            return e.attributes.get(attribute) or ()
        return e.get(attribute)

    def name(e):
        for attribute in _NAME_ATTRIBUTES.get(e.kind or "", ()):
            found = values(e, attribute)
            if found:
                return found[0]
        if e.kind == "person":
            return " ".join(x for x in (*values(e, "givenName")[:1], *values(e, "sn")[:1]) if x)
        return ""

    def key(dn: str) -> str | None:
        try:
            return normalize_dn(dn)
        except ValueError:  # a DN that does not parse names no unit
            return None

    for e in entries:
        if e.kind == "unit":
            units.setdefault(key(e.dn), name(e))

    def unit_above(dn: str) -> str | None:
        while True:
            try:
                dn = parent_dn(dn)
            except ValueError:
                return None
            if not dn:
                return None
            found = units.get(key(dn))
            if found:
                return found

    for e in entries:
        if not e.hsa_id or e.hsa_id in out or e.kind is None:
            continue
        above = unit_above(e.dn) if e.kind != "provider" else None
        if e.kind == "unit":
            out[e.hsa_id] = {"name": name(e), "unit": None, "parent": above}
        else:
            out[e.hsa_id] = {"name": name(e), "unit": above}


def _show(attribute: str, value: str, names: dict) -> str:
    """A value as the ombud types it in HSA Admin (made visible)."""
    return visible(_value(attribute, value, names))


def _value(attribute: str, value: str, names: dict) -> str:
    if attribute in ("hsaStartDate", "hsaEndDate"):
        stamp = parse_generalized_time(value)
        return stamp.date().isoformat() if stamp else value
    if attribute == "hsaSosTitleCodeSpeciality":
        licence, _sep, rest = value.partition(";")
        code, _sep, name = rest.partition(";")
        detail = ", ".join(x for x in (code, licence) if x)
        return f"{name} ({detail})" if name else detail
    if attribute in ("hsaCommissionMember", "hsaHealthCareUnitMember"):
        known = names.get(value)
        return f"{known['name']} ({value})" if known else value
    return value


def _field(kind: str, attribute: str) -> tuple[str, str] | None:
    for attr, label in FIELDS.get(kind, ()):
        if attr.lower() == attribute.lower():
            return attr, label
    return None


def build_change_request(plan: Plan, current=None, baseline=None, meta: dict | None = None,
                         entries=(), described: set[str] | None = None) -> dict:
    """The change request as data (JSON-able), in the current language.

    ``current`` / ``baseline``: the provider models the plan was made from (names of
    people, units and commissions; the baseline names those who left); either may be
    None (a plan against a directory). ``entries``: for a plan against a directory, the
    desired entries and those read (names and care units of what the plan touches);
    ``described``: the HSA-ids of the people the description holds (without ``current``,
    only the others are leavers; None: everyone removed from a commission is one).
    ``meta``: requester, contact, date, baseline, version (free text), provider_name
    and provider_id (when no model names the provider), shown at the top.
    """
    names = _names(current, baseline)
    _entry_names(entries, names)
    for known in names.values():
        for key in ("name", "unit", "parent"):
            if known.get(key):
                known[key] = visible(known[key])
    for o in plan.operations:  # names of new entries from what they will hold
        if o.op == "add" and o.hsa_id not in names:
            attrs = dict(o.attributes)
            name = (attrs.get("fullName") or attrs.get("ou") or attrs.get("cn")
                    or attrs.get("o") or ("",))[0]
            names[o.hsa_id] = {"name": visible(name), "unit": None}
    items: dict[tuple[str, str], dict] = {}
    removed_from: dict[str, list[dict]] = {}  # person -> commissions they leave

    def item(o) -> dict:
        key = (o.kind, o.hsa_id or o.dn)
        if key not in items:
            known = names.get(o.hsa_id or "", {})
            items[key] = {"kind": o.kind, "hsa_id": visible(o.hsa_id or ""),
                          "name": known.get("name") or "",
                          "unit": known.get("unit") or "", "parent": known.get("parent") or "",
                          "actions": [], "fields": [], "changes": [], "it": []}
        return items[key]

    for o in plan.operations:
        entry = item(o)
        entry["it"].append(visible(f"{o.op} {o.dn}" + (f" → {o.new_dn}" if o.new_dn else "")))
        if o.op == "add":
            entry["actions"].append("new")
            attrs = dict(o.attributes)
            for attr, label in FIELDS.get(o.kind, ()):
                values = attrs.get(attr, ())
                if values:
                    entry["fields"].append({
                        "label": _(label), "attribute": attr,
                        "value": "; ".join(_show(attr, v, names) for v in values)})
        elif o.op == "modify":
            entry["actions"].append("change")
            for c in o.changes:
                found = _field(o.kind, c.attribute)
                if found is None:
                    continue
                attr, label = found
                if c.attribute == "hsaCommissionMember":
                    for person in c.delete:
                        removed_from.setdefault(person, []).append(
                            {"hsa_id": o.hsa_id, "name": names.get(o.hsa_id, {}).get("name", "")})
                entry["changes"].append(_change(o.kind, attr, label, c, names))
        elif o.op == "modrdn":
            entry["actions"].append("move")
            entry["changes"].append({
                "label": _("Name or place in HSA"), "attribute": "dn", "multi": False,
                "before": visible(o.dn), "after": visible(o.new_dn or ""), "text": ""})
        elif o.op == "delete":
            entry["actions"].append("remove")
    leavers = []
    current_people = {p.hsa_id: p for p in current.people} if current is not None else {}
    deleted = {o.hsa_id for o in plan.operations if o.op == "delete" and o.kind == "person"}
    for person, commissions in sorted(removed_from.items()):
        now = current_people.get(person)
        if current is None and described is not None:
            leaving = person not in described or person in deleted
        else:
            leaving = current is None or now is None or not now.uses_webcert or person in deleted
        if leaving:
            known = names.get(person, {})
            leavers.append({"hsa_id": person, "name": known.get("name", ""),
                            "unit": known.get("unit") or "",
                            "end": [_("Remove %(person)s as member of the commission "
                                      "%(commission)s (%(hsa_id)s).",
                                      person=known.get("name") or person,
                                      commission=c["name"], hsa_id=c["hsa_id"])
                                    for c in commissions],
                            "remove": person in deleted})
    for person in sorted(deleted - set(removed_from)):
        known = names.get(person, {})
        leavers.append({"hsa_id": person, "name": known.get("name", ""),
                        "unit": known.get("unit") or "", "end": [], "remove": True})
    sections = []
    for kind, title in SECTIONS:
        found = sorted((i for i in items.values() if i["kind"] == kind),
                       key=lambda i: (i["unit"] or i["parent"], i["name"], i["hsa_id"]))
        for i in found:
            i["action_text"] = _action_text(kind, i["actions"])
        if found:
            sections.append({"kind": kind, "title": _(title), "items": found})
    counts = plan.counts
    provider = current.provider if current is not None else (
        baseline.provider if baseline is not None else None)
    meta = dict(meta or {})
    return {
        "title": _("HSA change request"),
        "provider": {"name": visible(provider.name if provider
                                     else meta.get("provider_name") or ""),
                     "hsa_id": visible(provider.hsa_id if provider
                                       else meta.get("provider_id") or ""),
                     "org_no": provider.org_no if provider else ""},
        "requester": visible(meta.get("requester") or ""),
        "contact": visible(meta.get("contact") or ""),
        "date": meta.get("date") or "",
        "baseline": meta.get("baseline") or "",
        "version": meta.get("version") or "",
        "counts": counts,
        "total": sum(counts.values()),
        "sections": sections,
        "leavers": leavers,
        "refused": [{**r, "dn": visible(r.get("dn") or ""),
                     "message": visible(r.get("message") or "")} for r in plan.refused],
    }


def _change(kind: str, attr: str, label: str, c, names: dict) -> dict:
    multi = attr in MULTI_VALUED
    add = [_show(attr, v, names) for v in c.add]
    remove = [_show(attr, v, names) for v in c.delete]
    if multi and attr == "hsaCommissionMember":
        parts = [_("Add %(people)s as member.", people=", ".join(add)) if add else "",
                 _("Remove %(people)s as member.", people=", ".join(remove)) if remove else ""]
    elif multi:
        parts = [_("Add %(values)s.", values=", ".join(add)) if add else "",
                 _("Remove %(values)s.", values=", ".join(remove)) if remove else ""]
    elif not c.after:
        parts = [_("Remove the value %(value)s.", value=", ".join(remove))]
    elif not c.before:
        parts = [_("Set to %(value)s.", value=", ".join(add))]
    else:
        parts = [_("Change %(before)s to %(after)s.",
                   before="; ".join(_show(attr, v, names) for v in c.before),
                   after="; ".join(_show(attr, v, names) for v in c.after))]
    return {"label": _(label), "attribute": attr, "multi": multi, "add": add,
            "remove": remove,
            "before": "; ".join(_show(attr, v, names) for v in c.before),
            "after": "; ".join(_show(attr, v, names) for v in c.after),
            "text": " ".join(p for p in parts if p)}


def _action_text(kind: str, actions: list[str]) -> str:
    texts = {
        ("provider", "new"): N_("Register the care provider"),
        ("unit", "new"): N_("Register a new care unit"),
        ("person", "new"): N_("Register a new person"),
        ("commission", "new"): N_("Create a new commission"),
        ("provider", "change"): N_("Change the care provider"),
        ("unit", "change"): N_("Change the care unit"),
        ("person", "change"): N_("Change the person's details"),
        ("commission", "change"): N_("Change the commission"),
        ("provider", "move"): N_("Rename the care provider"),
        ("unit", "move"): N_("Rename or move the care unit"),
        ("person", "move"): N_("Move the person to another care unit"),
        ("commission", "move"): N_("Rename or move the commission"),
        ("provider", "remove"): N_("Remove the care provider"),
        ("unit", "remove"): N_("Remove the care unit"),
        ("person", "remove"): N_("Remove the person from the care provider"),
        ("commission", "remove"): N_("Remove the commission"),
    }
    return " + ".join(_(texts[(kind, a)]) for a in dict.fromkeys(actions) if (kind, a) in texts)


def render_request_markdown(request: dict) -> str:
    return render_template("change-request.md.j2", request=request)


def render_request_html(request: dict) -> str:
    return render_template("change-request.html.j2", request=request)


def render_request_csv(request: dict) -> bytes:
    """One row per field, ``;``-separated, UTF-8 with BOM, CRLF: Excel with Swedish
    settings opens it in columns with å, ä, ö intact."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([_("Object"), _("Name"), _("HSA-id"), _("Care unit"), _("What to do"),
                _("Field"), _("Now"), _("Should be"), _("Add"), _("Remove"),
                _("For IT (LDAP)")])
    for section in request["sections"]:
        for i in section["items"]:
            head = [section["title"], i["name"], i["hsa_id"], i["unit"], i["action_text"]]
            rows = [[f["label"], "", f["value"], "", "", f["attribute"]] for f in i["fields"]]
            rows += [[c["label"], c["before"], c["after"], "; ".join(c.get("add", ())),
                      "; ".join(c.get("remove", ())), c["attribute"]] for c in i["changes"]]
            for row in rows or [["", "", "", "", "", ""]]:
                w.writerow(head + row)
    for p in request["leavers"]:
        for end in p["end"] or [_("Remove the person from the care provider.")]:
            w.writerow([_("Leavers"), p["name"], p["hsa_id"], p["unit"], end,
                        "", "", "", "", "", ""])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def plan_from_dict(data: dict) -> Plan:
    """A Plan back from ``Plan.to_dict()`` (what hsa_reconcile returns), for rendering."""
    plan = Plan(base_dn=data.get("base_dn", ""))
    for o in data.get("operations", ()):
        plan.operations.append(Operation(
            op=o["op"], kind=o["kind"], hsa_id=o.get("hsa_id"), dn=o["dn"],
            attributes=tuple((k, tuple(v)) for k, v in (o.get("attributes") or {}).items()),
            changes=tuple(AttributeChange(c["attribute"], tuple(c["before"]), tuple(c["after"]),
                                          tuple(c["delete"]), tuple(c["add"]))
                          for c in o.get("changes") or ()),
            new_rdn=o.get("new_rdn"), new_superior=o.get("new_superior"),
            new_dn=o.get("new_dn"), reason=o.get("reason", "")))
    plan.refused.extend(data.get("refused") or ())
    return plan
