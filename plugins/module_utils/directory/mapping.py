"""Map the provider model to directory entries and back (pure, no I/O).

Directory layout (docs/architecture.md, docs/hsa.md)::

    o=<provider name>,<base>                          organization + hsaHealthCareProvider
      ou=<unit name>,<parent unit or provider DN>     organizationalUnit + hsaHealthCareUnit
      hsaIdentity=<person id>,<unit or provider DN>   inetOrgPerson + hsaPersonExtension
      cn=<commission name>,<unit DN>                  hsaCommission

Values are compared the way the sandbox schema's equality matching rules compare them
(``schema/hsa.schema``: caseIgnoreMatch for text, generalizedTimeMatch for dates).
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..i18n.core import N_, _
from .client import (
    escape_rdn_value,
    parse_dn,
    rdn,
)

# Re-exported: part of this module's API.
from .schema import (  # noqa: F401 pylint: disable=unused-import
    ALL_MANAGED,
    CANONICAL,
    KIND_CLASS,
    KINDS,
    MANAGED,
    MATCHING_RULE,
    OBJECT_CLASSES,
    RDN_ATTRIBUTE,
    READ_ATTRIBUTES,
    canonical,
)

if TYPE_CHECKING:  # the model is imported where it is built (entries_to_model): a plan
    # from the plan cache never needs it
    from ..description.model import (
        Commission,
        Origin,
        Person,
        Provider,
        ProviderModel,
        Speciality,
        Unit,
    )

# --------------------------------------------------------------------------- values


def _collapse_spaces(value: str) -> str:
    """Insignificant space handling of LDAP string preparation (RFC 4518)."""
    return " ".join(value.split())


def parse_generalized_time(value: str) -> dt.datetime | None:
    """GeneralizedTime (``YYYYmmddHH[MM[SS[.f]]](Z|±HHMM)``) as an aware UTC datetime."""
    v = value.strip()
    tz = dt.UTC
    if v.endswith(("Z", "z")):
        v = v[:-1]
    elif len(v) > 5 and v[-5] in "+-" and v[-4:].isdigit():
        sign = 1 if v[-5] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(v[-4:-2]), minutes=int(v[-2:])))
        v = v[:-5]
    frac = ""
    for sep in ".,":
        if sep in v:
            v, frac = v.split(sep, 1)
    if not v.isdigit() or len(v) not in (10, 12, 14):
        return None
    v = v.ljust(14, "0")
    try:
        stamp = dt.datetime.strptime(v, "%Y%m%d%H%M%S").replace(tzinfo=tz)
    except ValueError:
        return None
    if frac.isdigit():
        stamp += dt.timedelta(seconds=float("0." + frac))
    return stamp.astimezone(dt.UTC)


def format_generalized_time(day: dt.date | dt.datetime) -> str:
    if isinstance(day, dt.datetime):
        if day.tzinfo is not None:
            day = day.astimezone(dt.UTC)
        return day.strftime("%Y%m%d%H%M%SZ")
    return day.strftime("%Y%m%d") + "000000Z"


@functools.lru_cache(maxsize=256)
def _rule(attribute: str) -> str:
    return MATCHING_RULE.get(attribute.split(";", 1)[0].lower(), "caseIgnoreMatch")


def match_key(attribute: str, value: str) -> str:
    """The form of a value the server's equality matching rule compares.

    caseIgnoreMatch: NFC (the server prepares with NFKC; NFC is what the model stores),
    case folded, insignificant spaces removed. generalizedTimeMatch: the UTC instant.
    """
    if _rule(attribute) == "generalizedTimeMatch":
        stamp = parse_generalized_time(value)
        return stamp.isoformat() if stamp else value
    if value.isascii():  # NFC and casefold of ASCII text are lower()
        return " ".join(value.split()).lower()
    value = unicodedata.normalize("NFC", value)
    return _collapse_spaces(value).casefold()


def same_values(attribute: str, a, b) -> bool:
    return {match_key(attribute, v) for v in a} == {match_key(attribute, v) for v in b}


# --------------------------------------------------------------------------- DNs


@functools.lru_cache(maxsize=65536)
def _ava_key(attribute: str, value: str) -> str:
    return f"{attribute.lower()}={escape_rdn_value(match_key(attribute, value))}"


@functools.lru_cache(maxsize=65536)
def _dn_keys(dn: str) -> tuple[str, ...]:
    return tuple("+".join(sorted(_ava_key(a, v) for a, v in one)) for one in parse_dn(dn))


def dn_keys(dn: str) -> list[str]:
    """Per RDN, a comparison key: attribute names lowered, values by matching rule."""
    return list(_dn_keys(dn))


def normalize_dn(dn: str) -> str:
    """A comparison key for a whole DN."""
    return ",".join(dn_keys(dn))


def ancestors(dn: str) -> list[str]:
    """Comparison keys of every ancestor DN, closest first."""
    keys = dn_keys(dn)
    return [",".join(keys[i:]) for i in range(1, len(keys))]


def dn_depth(dn: str) -> int:
    return len(parse_dn(dn))


def parent_dn(dn: str) -> str:
    rdns = parse_dn(dn)
    return ",".join("+".join(rdn(a, v) for a, v in one) for one in rdns[1:])


def first_rdn(dn: str) -> tuple[str, str]:
    rdns = parse_dn(dn)
    return rdns[0][0] if rdns and rdns[0] else ("", "")


def is_below(dn: str, base_dn: str) -> bool:
    """True when ``dn`` is ``base_dn`` or inside its subtree."""
    d, b = normalize_dn(dn), normalize_dn(base_dn)
    return d == b or d.endswith("," + b)


# --------------------------------------------------------------------------- desired


@dataclass(frozen=True)
class DesiredEntry:
    kind: str
    hsa_id: str
    dn: str
    object_classes: tuple[str, ...]
    # Every managed attribute of the kind; an empty tuple means "must be absent".
    attributes: dict[str, tuple[str, ...]]
    origin: Origin | None = None


@dataclass(frozen=True)
class MapError:
    path: str
    message: str
    origin: Origin | None = None

    def __str__(self) -> str:
        where = f"{self.origin.file}:{self.origin.line} " if self.origin else ""
        return f"{where}{self.path}: {self.message}"


@dataclass
class DesiredState:
    entries: list[DesiredEntry] = field(default_factory=list)
    errors: list[MapError] = field(default_factory=list)


def _t(*values) -> tuple[str, ...]:
    """Values without None/empty strings and without duplicates (order kept)."""
    seen, out = set(), []
    for v in values:
        if v is None or v == "":
            continue
        s = str(v)
        if not s.isascii():
            s = unicodedata.normalize("NFC", s)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return tuple(out)


def speciality_value(sp: Speciality) -> str:
    return f"{sp.licence_code or ''};{sp.code};{sp.name or ''}"


def provider_attributes(p: Provider) -> dict[str, tuple[str, ...]]:
    return {"hsaIdentity": _t(p.hsa_id), "o": _t(p.name), "orgNo": _t(p.org_no)}


def unit_attributes(u: Unit, provider: Provider, sub_units) -> dict[str, tuple[str, ...]]:
    return {
        "hsaIdentity": _t(u.hsa_id),
        "ou": _t(u.name),
        "mail": _t(u.email),
        "unitPrescriptionCode": _t(*u.workplace_codes),
        "hsaResponsibleHealthCareProvider": _t(provider.hsa_id),
        "hsaHealthCareUnitMember": _t(*sub_units),
    }


def person_attributes(p: Person) -> dict[str, tuple[str, ...]]:
    full = p.full_name or " ".join(x for x in (p.given_name, p.surname) if x)
    return {
        "hsaIdentity": _t(p.hsa_id),
        "givenName": _t(p.given_name),
        "sn": _t(p.surname),
        "cn": _t(full),
        "fullName": _t(full),
        "hsaTitle": _t(*p.titles),
        "personalPrescriptionCode": _t(p.prescriber_code),
        "hsaGroupPrescriptionCode": _t(*p.group_prescriber_codes),
        "hsaSosTitleCodeSpeciality": _t(*(speciality_value(s) for s in p.specialities)),
        "paTitleCode": _t(*(pos.code for pos in p.positions)),
        "paTitleName": _t(*(pos.name for pos in p.positions)),
        "mail": _t(p.mail),
    }


def commission_attributes(c: Commission) -> dict[str, tuple[str, ...]]:
    return {
        "hsaIdentity": _t(c.hsa_id),
        "cn": _t(c.name),
        "hsaCommissionPurpose": _t(c.purpose),
        "hsaCommissionMember": _t(*c.members),
        "hsaCommissionRight": _t(*c.rights),
        "hsaStartDate": _t(format_generalized_time(c.valid_from) if c.valid_from else None),
        "hsaEndDate": _t(format_generalized_time(c.valid_to) if c.valid_to else None),
    }


# What a message calls an object: the reader's words, with its HSA-id (the DN, for IT,
# goes in the message's "For IT" part).
_THE_ENTRY = N_("the entry %(hsa_id)s")
_THE_OBJECT = {
    "provider": N_("the care provider %(hsa_id)s"),
    "unit": N_("the care unit %(hsa_id)s"),
    "person": N_("the person %(hsa_id)s"),
    "commission": N_("the commission %(hsa_id)s"),
}


def object_name(kind: str | None, hsa_id: str | None, capital: bool = False) -> str:
    """The object as a message names it ("the care unit SE…-E1"), in the current language."""
    template = _THE_OBJECT.get(kind or "", _THE_ENTRY)
    text = _(template, hsa_id=hsa_id) if hsa_id else _("an entry")
    return text[:1].upper() + text[1:] if capital else text


def desired_entries(model: ProviderModel, base_dn: str) -> DesiredState:
    """The entries the model describes, parents before children.

    DN collisions (two units with the same name under one parent, two commissions with
    the same name on one unit) and unit parent cycles are errors: nothing can be written.
    """
    state = DesiredState()
    provider = model.provider
    provider_dn = f"{rdn('o', provider.name)},{base_dn}"
    state.entries.append(
        DesiredEntry(
            "provider",
            provider.hsa_id,
            provider_dn,
            OBJECT_CLASSES["provider"],
            provider_attributes(provider),
            provider.origin,
        )
    )

    units = {u.hsa_id: u for u in model.units}
    children: dict[str | None, list[Unit]] = {}
    for u in model.units:
        parent = u.parent if u.parent in units else None
        children.setdefault(parent, []).append(u)
    unit_dn: dict[str, str] = {}
    queue = [(u, provider_dn, 1) for u in children.get(None, [])]
    while queue:  # breadth first: parents before children
        u, parent, _depth = queue.pop(0)
        dn = f"{rdn('ou', u.name)},{parent}"
        unit_dn[u.hsa_id] = dn
        subs = [s.hsa_id for s in children.get(u.hsa_id, [])]
        state.entries.append(
            DesiredEntry(
                "unit",
                u.hsa_id,
                dn,
                OBJECT_CLASSES["unit"],
                unit_attributes(u, provider, subs),
                u.origin,
            )
        )
        queue.extend((s, dn, _depth + 1) for s in children.get(u.hsa_id, []))
    for u in model.units:
        if u.hsa_id not in unit_dn:
            state.errors.append(
                MapError(
                    f"units[{u.hsa_id}].parent",
                    _("The care unit %(hsa_id)s is its own parent unit through %(parent)s "
                      "(a cycle); give it another parent unit.", hsa_id=u.hsa_id,
                      parent=u.parent),
                    u.origin,
                )
            )

    for p in model.people:
        parent = unit_dn.get(p.unit, provider_dn) if p.unit else provider_dn
        state.entries.append(
            DesiredEntry(
                "person",
                p.hsa_id,
                f"{rdn('hsaIdentity', p.hsa_id)},{parent}",
                OBJECT_CLASSES["person"],
                person_attributes(p),
                p.origin,
            )
        )
    for c in model.commissions:
        parent = unit_dn.get(c.unit, provider_dn)
        state.entries.append(
            DesiredEntry(
                "commission",
                c.hsa_id,
                f"{rdn('cn', c.name)},{parent}",
                OBJECT_CLASSES["commission"],
                commission_attributes(c),
                c.origin,
            )
        )

    seen: dict[str, DesiredEntry] = {}
    ids: dict[str, DesiredEntry] = {}
    for e in state.entries:
        key = normalize_dn(e.dn)
        if key in seen:
            other = seen[key]
            state.errors.append(
                MapError(
                    f"{e.kind}s[{e.hsa_id}]",
                    _("%(object)s would get the same name in the directory as %(other)s; "
                      "give one of them another name. For IT: %(dn)s.",
                      object=object_name(e.kind, e.hsa_id, capital=True),
                      other=object_name(other.kind, other.hsa_id), dn=e.dn),
                    e.origin,
                )
            )
        seen[key] = e
        ikey = match_key("hsaIdentity", e.hsa_id)
        if ikey in ids:
            state.errors.append(
                MapError(f"{e.kind}s[{e.hsa_id}]",
                         _("The HSA-id %(hsa_id)s is used twice in the description.",
                           hsa_id=e.hsa_id), e.origin)
            )
        ids[ikey] = e
    return state


# --------------------------------------------------------------------------- actual


@dataclass(frozen=True)
class DirectoryEntry:
    """One entry as read: DN and attributes (canonical names, string values)."""

    dn: str
    attributes: dict[str, tuple[str, ...]]

    def get(self, attribute: str) -> tuple[str, ...]:
        return self.attributes.get(canonical(attribute), ())

    def first(self, attribute: str) -> str | None:
        values = self.get(attribute)
        return values[0] if values else None

    @property
    def hsa_id(self) -> str | None:
        return self.first("hsaIdentity")

    @property
    def kind(self) -> str | None:
        classes = {c.lower() for c in self.get("objectClass")}
        for kind in ("commission", "person", "unit", "provider"):
            if KIND_CLASS[kind].lower() in classes:
                return kind
        return None


def make_entry(dn: str, attributes: dict) -> DirectoryEntry:
    """Build a DirectoryEntry from raw search attributes (bytes or str values)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, values in attributes.items():
        if not isinstance(values, (list, tuple)):
            values = [values]
        decoded = []
        for v in values:
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            elif not isinstance(v, str):
                v = str(v)
            decoded.append(v if v.isascii() else unicodedata.normalize("NFC", v))
        key = _CANONICAL_CACHE.get(name) or canonical(name)
        out[key] = (*out[key], *decoded) if key in out else tuple(decoded)
    return DirectoryEntry(dn, out)


_CANONICAL_CACHE = {n: n for n in (*ALL_MANAGED, "objectClass")}


def _origin(dn: str) -> Origin:
    from ..description.model import (
        Origin,
    )

    return Origin(file=dn, line=0)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    stamp = parse_generalized_time(value)
    return stamp.date() if stamp else None


def entries_to_model(entries, base_dn: str | None = None) -> ProviderModel | None:
    """The directory's HSA objects as a ProviderModel ("actual" state).

    ``origin`` of every object is ``Origin(file=<DN>, line=0)``. The provider is the
    first provider entry found (entries of other providers are ignored); ``None`` when
    the directory holds no provider. A unit's parent and a person's unit come from the
    DN (the closest enclosing unit entry), a commission's unit likewise.
    """
    from ..description.model import (
        Commission,
        Onboarding,
        Person,
        Position,
        Provider,
        ProviderModel,
        Speciality,
        Unit,
    )

    entries = list(entries)
    by_dn = {normalize_dn(e.dn): e for e in entries}
    providers = [e for e in entries if e.kind == "provider"]
    if not providers:
        return None
    top = min(providers, key=lambda e: dn_depth(e.dn))
    top_key = normalize_dn(top.dn)

    def enclosing_unit(dn: str) -> str | None:
        for key in ancestors(dn):
            if key == top_key:
                return None
            e = by_dn.get(key)
            if e is not None and e.kind == "unit":
                return e.hsa_id
        return None

    def inside(e: DirectoryEntry) -> bool:
        k = normalize_dn(e.dn)
        return k.endswith("," + top_key)

    provider = Provider(
        hsa_id=top.hsa_id or "",
        name=top.first("o") or "",
        org_no=top.first("orgNo"),
        onboarding=Onboarding(None, None, None, _origin(top.dn)),
        origin=_origin(top.dn),
    )
    units, people, commissions = [], [], []
    for e in entries:
        if not inside(e) or not e.hsa_id:
            continue
        kind = e.kind
        if kind == "unit":
            units.append(
                Unit(
                    hsa_id=e.hsa_id,
                    name=e.first("ou") or "",
                    email=e.first("mail"),
                    workplace_codes=e.get("unitPrescriptionCode"),
                    parent=enclosing_unit(e.dn),
                    host_group=None,
                    origin=_origin(e.dn),
                )
            )
        elif kind == "person":
            codes = e.get("paTitleCode")
            names = e.get("paTitleName")
            n = max(len(codes), len(names))
            positions = tuple(
                Position(codes[i] if i < len(codes) else None, names[i] if i < len(names) else None)
                for i in range(n)
            )
            specialities = []
            for v in e.get("hsaSosTitleCodeSpeciality"):
                lic, _sep, rest = v.partition(";")
                code, _sep, name = rest.partition(";")
                specialities.append(Speciality(code=code, name=name, licence_code=lic or None))
            people.append(
                Person(
                    hsa_id=e.hsa_id,
                    given_name=e.first("givenName"),
                    surname=e.first("sn"),
                    full_name=e.first("fullName") or e.first("cn"),
                    titles=e.get("hsaTitle"),
                    prescriber_code=e.first("personalPrescriptionCode"),
                    group_prescriber_codes=e.get("hsaGroupPrescriptionCode"),
                    specialities=tuple(specialities),
                    positions=positions,
                    unit=enclosing_unit(e.dn),
                    mail=e.first("mail"),
                    uses_webcert=True,
                    siths=None,
                    expected_role=None,
                    origin=_origin(e.dn),
                )
            )
        elif kind == "commission":
            commissions.append(
                Commission(
                    hsa_id=e.hsa_id,
                    name=e.first("cn") or "",
                    unit=enclosing_unit(e.dn) or "",
                    purpose=e.first("hsaCommissionPurpose") or "",
                    rights=e.get("hsaCommissionRight"),
                    members=e.get("hsaCommissionMember"),
                    valid_from=_date(e.first("hsaStartDate")),
                    valid_to=_date(e.first("hsaEndDate")),
                    origin=_origin(e.dn),
                )
            )
    return ProviderModel(
        provider=provider, units=tuple(units), people=tuple(people), commissions=tuple(commissions)
    )
