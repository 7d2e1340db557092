"""Turn YAML nodes into the provider model and check every rule.

``load_and_validate(path, strict_ids)`` is what ``hsa_model.load_provider`` runs:
read every file (``hsa_yaml``), convert each object with per-field checks
(``hsa_rules``), then check what spans objects and files (``hsa_crosscheck``:
duplicate HSA-ids, references, sub-unit cycles, commissions per person). All
findings are collected; the model is built only when there is no error.
"""

from __future__ import annotations

import gc
import os
import re
import unicodedata
from datetime import date, datetime

import yaml

from ..i18n.core import N_, _
from . import rules
from .crosscheck import (
    Entry,
    Ref,
    add_finding,
    cross_check,
)
from .files import (
    LOOP,
    NOT_A_FILE,
    OUTSIDE,
    content_digest,
    scan_description,
)
from .model import (
    ERROR,
    WARNING,
    Commission,
    Finding,
    Findings,
    LoadResult,
    Onboarding,
    Origin,
    Person,
    Position,
    Provider,
    ProviderModel,
    SithsIdentity,
    Speciality,
    Unit,
)
from .text import (
    control_problem,
    excerpt,
    invisible_warning,
)
from .webcert_roles import (
    CARE_PURPOSE,
    POSITION_GROUP_PAIRS,
    ROLE_LABELS,
    is_care_commission,
    parse_role_name,
    resolve_role,
)
from .yaml_reader import (
    read_yaml_file,
)

_T = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT, TIMESTAMP = (
    _T + "str",
    _T + "null",
    _T + "bool",
    _T + "int",
    _T + "float",
    _T + "timestamp",
)
_KIND = {
    STR: N_("text"),
    NULL: N_("empty (null)"),
    BOOL: N_("a yes/no value"),
    INT: N_("a number"),
    FLOAT: N_("a number"),
    TIMESTAMP: N_("a date"),
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

TOP_KEYS = ("provider", "units", "people", "commissions")
PROVIDER_KEYS = ("hsa_id", "name", "org_no", "onboarding")
ONBOARDING_KEYS = ("registration_sent", "agreement_signed", "technical_order")
UNIT_KEYS = ("hsa_id", "name", "email", "workplace_codes", "parent", "host_group")
PERSON_KEYS = (
    "hsa_id",
    "given_name",
    "surname",
    "full_name",
    "titles",
    "prescriber_code",
    "group_prescriber_codes",
    "specialities",
    "positions",
    "unit",
    "mail",
    "uses_webcert",
    "siths",
    "expected_role",
)
SPECIALITY_KEYS = ("code", "name", "licence_code")
POSITION_KEYS = ("code", "name")
SITHS_KEYS = ("card_number", "serial_number")
COMMISSION_KEYS = (
    "hsa_id",
    "name",
    "unit",
    "purpose",
    "rights",
    "members",
    "valid_from",
    "valid_to",
)

# Swedish or common alternative spellings -> the key to use.
KEY_ALIASES = {
    "epost": "email",
    "e-post": "email",
    "e_post": "email",
    "organisationsnummer": "org_no",
    "orgnr": "org_no",
    "arbetsplatskod": "workplace_codes",
    "arbetsplatskoder": "workplace_codes",
    "workplace_code": "workplace_codes",
    "förskrivarkod": "prescriber_code",
    "gruppförskrivarkod": "group_prescriber_codes",
    "group_prescriber_code": "group_prescriber_codes",
    "befattningar": "positions",
    "befattning": "positions",
    "specialiteter": "specialities",
    "specialties": "specialities",
    "title": "titles",
    "ändamål": "purpose",
    "vårdenheter": "units",
    "medarbetaruppdrag": "commissions",
    "vårdgivare": "provider",
    "persons": "people",
    "first_name": "given_name",
    "last_name": "surname",
    "member": "members",
    "right": "rights",
    "name": "full_name",
}

HINTS = {
    "hsa_id": N_('write the HSA-id, e.g. "%(example)s"'),
    "name": N_("write the name as it should appear in HSA"),
    "given_name": N_("write the förnamn"),
    "surname": N_("write the efternamn"),
    "org_no": N_('write the organisationsnummer, e.g. "559912-3451"'),
    "email": N_("write the unit's e-postadress, e.g. vard@example.se; Webcert requires it"),
    "workplace_codes": N_('write a list of arbetsplatskoder, e.g. ["1234567"]; Webcert requires '
                          "one"),
    "unit": N_("write the HSA-id of a unit in the description"),
    "purpose": N_('write the ändamål, usually "%(purpose)s"'),
}


def _hint(key: str) -> str:
    """The hint of ``key`` (HINTS) in the current language, or ""."""
    msgid = HINTS.get(key)
    if msgid is None:
        return ""
    return _(msgid, example=rules.HSA_ID_EXAMPLE, purpose=CARE_PURPOSE)


class _Ctx:
    def __init__(self, file: str, strict_ids: bool, findings: list[Finding]):
        self.file = file
        self.strict_ids = strict_ids
        self.findings = findings
        self.provider: list[Entry] = []
        self.units: list[Entry] = []
        self.people: list[Entry] = []
        self.commissions: list[Entry] = []

    def add(self, severity, where, path, value, message, hint=""):
        line = where if isinstance(where, int) else where.start_mark.line + 1
        if isinstance(value, str) and len(value) > rules.TEXT_MAX:
            value = value[:80] + "…"  # a megabyte value must not flood every report
        if isinstance(path, str) and len(path) > 200:
            path = excerpt(path, 200)  # an unknown key can be as long as a value
        self.findings.append(Finding(severity, self.file, line, path, value, message, hint))

    def error(self, where, path, value, message, hint=""):
        self.add(ERROR, where, path, value, message, hint)

    def warn(self, where, path, value, message, hint=""):
        self.add(WARNING, where, path, value, message, hint)


def _line(node) -> int:
    return node.start_mark.line + 1


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _shape(node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return _("a list")
    if isinstance(node, yaml.MappingNode):
        return _("a mapping (key: value)")
    return _(_KIND.get(node.tag, N_("a value")))


# What a mapping of the description describes ("write ... as key: value lines").
_WHAT = {
    "file": N_("the file"),
    "provider": N_("the provider"),
    "onboarding": N_("the onboarding status"),
    "unit": N_("a unit"),
    "person": N_("a person"),
    "speciality": N_("a speciality"),
    "position": N_("a position"),
    "siths": N_("the SITHS identity"),
    "commission": N_("a commission"),
}


# ---------------------------------------------------------------- mappings and scalars


def _fields(ctx: _Ctx, node, path: str, allowed: tuple[str, ...], what: str) -> dict | None:
    if not isinstance(node, yaml.MappingNode):
        # A whole file of the wrong shape is not quoted at all: it may be any file.
        value = node.value if isinstance(node, yaml.ScalarNode) and path else None
        if value is not None and _foreign_tag(ctx, node, path):
            return None
        ctx.error(
            node,
            path,
            value,
            _("is %(shape)s, must be a mapping", shape=_shape(node)),
            _("write %(what)s as key: value lines, e.g. %(key)s: ...", what=_(_WHAT[what]),
              key=allowed[0]),
        )
        return None
    result: dict[str, yaml.Node] = {}
    lines: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _T + "merge":
            ctx.error(
                key_node,
                path,
                None,
                _("has a key that is not a plain name (merge keys '<<' are not supported)"),
                _("write each key out"),
            )
            continue
        key = _nfc(key_node.value)
        if key in lines:
            ctx.error(
                key_node,
                f"{path}.{key}" if path else key,
                None,
                _("appears twice in the same mapping (first on line %(line)s)",
                  line=_line(lines[key])),
                _("keep one: YAML would silently keep only the last one"),
            )
            continue
        lines[key] = key_node
        if key not in allowed:
            guess = KEY_ALIASES.get(key.casefold())
            if guess not in allowed:
                guess = rules.did_you_mean(key, allowed)
            allowed_text = ", ".join(allowed)
            if guess:
                hint = _('did you mean "%(guess)s"? Allowed keys: %(keys)s', guess=guess,
                         keys=allowed_text)
            else:
                hint = _("Allowed keys: %(keys)s", keys=allowed_text)
            ctx.error(key_node, f"{path}.{key}" if path else key, None, _("is not a known key"),
                      hint)
            continue
        result[key] = value_node
    return result


_KNOWN_TAGS = frozenset((STR, NULL, BOOL, INT, FLOAT, TIMESTAMP, _T + "map", _T + "seq"))


def _foreign_tag(ctx, node, path) -> bool:
    """Report a value with a YAML tag the description does not use (``!vault``, ``!!binary``,
    ``!anything``); its text is not quoted."""
    tag = node.tag
    if tag in _KNOWN_TAGS or not isinstance(node, yaml.ScalarNode):
        return False
    if tag == "!vault":
        ctx.error(
            node,
            path,
            None,
            _("is a vault-encrypted value (!vault); vault-encrypted values are not supported "
              "in the description"),
            _("write the value as plain text: the description holds names and codes, not "
              "secrets (keep passwords in the inventory, encrypted with ansible-vault)"),
        )
    else:
        ctx.error(
            node,
            path,
            None,
            _("has the YAML tag %(tag)s, which the description does not use",
              tag=excerpt(tag, 40)),
            _("remove the tag and write the value as plain text"),
        )
    return True


def _scalar_text(ctx, node, path, *, allow_number=False, hint="") -> str | None:
    """The text of a scalar node; None (with an error) for anything else; None for null."""
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if tag == STR or (allow_number and tag == INT):
            text = _nfc(node.value)
            problem = control_problem(text)
            if problem:
                ctx.error(node, path, text, *problem)
                return None
            return text
        if tag == NULL:
            return None
        if _foreign_tag(ctx, node, path):
            return None
        fix = _('put it in quotes: "%(value)s"', value=excerpt(node.value, 40))
        ctx.error(node, path, node.value, _("is %(shape)s, not text", shape=_shape(node)), fix)
        return None
    ctx.error(node, path, None, _("is %(shape)s, must be a single value", shape=_shape(node)),
              hint)
    return None


def _fast_text(node, code: bool) -> str | None:
    """Text of an ordinary non-empty string scalar (the common case), else None."""
    if node.__class__ is yaml.ScalarNode and node.style != '"':
        tag = node.tag
        if tag == STR or (code and tag == INT):
            value = node.value
            if value and value.isprintable() and not value.isspace():
                return value if value.isascii() else unicodedata.normalize("NFC", value)
    return None


def _with_length(check):
    """``check`` plus the length limit every text value has (rules.TEXT_MAX)."""
    if check is None:
        return rules.length_problem

    def checked(text):
        return rules.length_problem(text) or check(text)

    return checked


def _text(ctx, fields, key, path, owner, *, required=False, code=False, check=None):
    check = _with_length(check)
    node = fields.get(key)
    if node is not None:
        text = _fast_text(node, code)
        if text is not None:
            problem = check(text) if check else None
            if problem is None:
                return text
            ctx.error(node, f"{path}.{key}", text, *problem)
            return None
    if node is None:
        if required:
            ctx.error(owner, f"{path}.{key}", None, _("is missing"), _hint(key))
        return None
    full = f"{path}.{key}"
    text = _scalar_text(ctx, node, full, allow_number=code, hint=_hint(key))
    if text is None or not text.strip():
        if _null_word(ctx, node, full, required):
            return None
        if required and (text is not None or _is_null(node)):
            ctx.error(node, full, None, _("is empty"), _hint(key))
        return None
    if check:
        problem = check(text)
        if problem:
            ctx.error(node, full, text, *problem)
            return None
    return text


def _is_null(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL


def _null_word(ctx, node, path, required) -> bool:
    """``given_name: Null`` (unquoted): YAML reads the words null, Null, NULL and ~ as
    empty. Said plainly for a required value; for an optional one, a warning unless it is
    the usual lower-case null or ~."""
    if not _is_null(node) or not node.value or node.style:
        return False
    word = node.value
    if not required and word in ("null", "~"):
        return False
    message = _("is empty: YAML reads the unquoted word %(word)s as no value (null), not as "
                "text", word=word)
    if required:
        ctx.error(node, path, None, message,
                  _('if %(word)s is the text, put it in quotes: "%(word)s"', word=word))
    else:
        ctx.warn(node, path, None, message,
                 _('if %(word)s is the text, put it in quotes: "%(word)s"; for no value, write '
                   "null or leave the key out", word=word))
    return True


def _name(ctx, fields, key, path, owner, *, required=False):
    """A name: text, plus a warning for invisible characters that change how it reads."""
    text = _text(ctx, fields, key, path, owner, required=required)
    if text is not None:
        warning = invisible_warning(text)
        if warning:
            ctx.warn(fields[key], f"{path}.{key}", text, *warning)
    return text


def _hsa_id(ctx, fields, key, path, owner, *, required=False):
    """An HSA-id; a wrongly shaped one is reported but still returned, so that
    references to it do not give a second, misleading "refers to nothing" error."""
    text = _text(ctx, fields, key, path, owner, required=required)
    if text is not None:
        problem = rules.hsa_id_problem(text, ctx.strict_ids)
        if problem:
            ctx.error(fields[key], f"{path}.{key}", text, *problem)
    return text


def _bool(ctx, fields, key, path, default: bool) -> bool:
    node = fields.get(key)
    if node is None or _is_null(node):
        return default
    if isinstance(node, yaml.ScalarNode) and node.tag == BOOL:
        return node.value.lower() in ("yes", "true", "on")
    if _foreign_tag(ctx, node, f"{path}.{key}"):
        return default
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    ctx.error(
        node,
        f"{path}.{key}",
        value,
        _("is %(shape)s, must be true or false", shape=_shape(node)),
        _("write true or false"),
    )
    return default


def _date(ctx, fields, key, path):
    node = fields.get(key)
    full = f"{path}.{key}"
    if node is None or _is_null(node):
        return None
    hint = _("write the date as YYYY-MM-DD, e.g. %(example)s", example="2026-01-31")
    if _foreign_tag(ctx, node, full):
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag in (TIMESTAMP, STR):
        text = node.value.strip()
        if _DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                ctx.error(node, full, text, _("is not a real calendar date"), hint)
                return None
        if node.tag == TIMESTAMP:
            try:
                value = yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
            except (ValueError, TypeError):
                value = None
            if isinstance(value, datetime):
                ctx.error(node, full, text, _("has a time of day, must be a date only"), hint)
                return None
        ctx.error(node, full, text, _("is not a date"), hint)
        return None
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    ctx.error(node, full, value, _("is %(shape)s, must be a date", shape=_shape(node)), hint)
    return None


def _example(example: str) -> str:
    """An example of a list: YAML as it is, or a description marked with N_ (translated)."""
    return _(example)


def _items(ctx, fields, key, path, example: str) -> list[tuple[str, yaml.Node]]:
    node = fields.get(key) if isinstance(fields, dict) else fields
    full = f"{path}.{key}" if path else key
    if node is None or _is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        ctx.error(node, full, value, _("is %(shape)s, must be a list", shape=_shape(node)),
                  _("write it as %(example)s", example=_example(example)))
        return []
    return [(f"{full}[{i}]", item) for i, item in enumerate(node.value)]


def _text_list(ctx, fields, key, path, example, *, code=False, check=None) -> list[str]:
    check = _with_length(check)
    node = fields.get(key)
    if node.__class__ is yaml.SequenceNode:
        fast = [_fast_text(item, code) for item in node.value]
        if None not in fast and (check is None or not any(map(check, fast))):
            return fast
    values = []
    for item_path, item in _items(ctx, fields, key, path, example):
        hint = _("write it as %(example)s", example=_example(example))
        text = _scalar_text(ctx, item, item_path, allow_number=code, hint=hint)
        if text is None:
            if _is_null(item):
                ctx.error(item, item_path, None, _("is empty"), hint)
            continue
        problem = check(text) if check else None
        if problem:
            ctx.error(item, item_path, text, *problem)
            continue
        values.append(text)
    return values


# ---------------------------------------------------------------- objects


def _convert_file(ctx: _Ctx, root) -> bool:
    """Convert one file's objects into ctx; False when the file is not a mapping at all."""
    top = _fields(ctx, root, "", TOP_KEYS, "file")
    if top is None:
        return False
    if "provider" in top:
        _provider(ctx, top["provider"])
    for path, node in _items(ctx, top, "units", "", N_("a list of units (- hsa_id: ...)")):
        _unit(ctx, node, path)
    for path, node in _items(ctx, top, "people", "", N_("a list of people (- hsa_id: ...)")):
        _person(ctx, node, path)
    for path, node in _items(ctx, top, "commissions", "", N_("a list of commissions")):
        _commission(ctx, node, path)
    return True


def _provider(ctx: _Ctx, node) -> None:
    path = "provider"
    f = _fields(ctx, node, path, PROVIDER_KEYS, "provider")
    if f is None:
        return
    hsa_id = _hsa_id(ctx, f, "hsa_id", path, node, required=True)
    name = _name(ctx, f, "name", path, node, required=True)
    org_no = _text(
        ctx, f, "org_no", path, node, required=True, code=True, check=rules.org_no_problem
    )
    origin = Origin(ctx.file, _line(node))
    onboarding = Onboarding(None, None, None, origin)
    ob_node = f.get("onboarding")
    if ob_node is not None and not _is_null(ob_node):
        ob_path = f"{path}.onboarding"
        ob = _fields(ctx, ob_node, ob_path, ONBOARDING_KEYS, "onboarding")
        if ob is not None:
            onboarding = Onboarding(
                registration_sent=_date(ctx, ob, "registration_sent", ob_path),
                agreement_signed=_date(ctx, ob, "agreement_signed", ob_path),
                technical_order=_text(ctx, ob, "technical_order", ob_path, ob_node),
                origin=Origin(ctx.file, _line(ob_node)),
            )
    provider = Provider(hsa_id, name, org_no, onboarding, origin)
    ctx.provider.append(Entry("provider", provider, ctx.file, path, origin.line, _id_line(f, node)))


def _id_line(fields, node) -> int:
    id_node = fields.get("hsa_id")
    return _line(id_node if id_node is not None else node)


def _ref(ctx, fields, key, path, owner, *, required=False) -> Ref | None:
    value = _text(ctx, fields, key, path, owner, required=required)
    return Ref(value, ctx.file, _line(fields[key]), f"{path}.{key}") if value else None


def _unit(ctx: _Ctx, node, path: str) -> None:
    f = _fields(ctx, node, path, UNIT_KEYS, "unit")
    if f is None:
        return
    hsa_id = _hsa_id(ctx, f, "hsa_id", path, node, required=True)
    name = _name(ctx, f, "name", path, node, required=True)
    email = _text(ctx, f, "email", path, node, required=True, check=rules.email_problem)
    codes = _text_list(
        ctx,
        f,
        "workplace_codes",
        path,
        '["1234567"]',
        code=True,
        check=rules.workplace_code_problem,
    )
    codes_node = f.get("workplace_codes")
    if codes_node is None or _is_null(codes_node) or codes_node.value == []:
        where = codes_node if codes_node is not None else node
        ctx.error(
            where, f"{path}.workplace_codes", None, _("is missing or empty"),
            _hint("workplace_codes")
        )
    for index, code in enumerate(codes):
        warning = rules.workplace_code_warning(code)
        if warning:
            item = codes_node.value[index] if isinstance(codes_node, yaml.SequenceNode) else node
            ctx.warn(item, f"{path}.workplace_codes[{index}]", code, *warning)
    parent = _ref(ctx, f, "parent", path, node)
    host_group = _text(ctx, f, "host_group", path, node, check=rules.host_group_problem)
    origin = Origin(ctx.file, _line(node))
    unit = Unit(
        hsa_id, name, email, tuple(codes), parent.hsa_id if parent else None, host_group, origin
    )
    entry = Entry("unit", unit, ctx.file, path, origin.line, _id_line(f, node))
    if parent:
        entry.refs.append(parent)
    ctx.units.append(entry)


def _speciality(ctx, node, path) -> Speciality | None:
    f = _fields(ctx, node, path, SPECIALITY_KEYS, "speciality")
    if f is None:
        return None
    code = _text(
        ctx, f, "code", path, node, required=True, code=True, check=rules.no_semicolon_problem
    )
    name = _text(ctx, f, "name", path, node, required=True, check=rules.no_semicolon_problem)
    licence = _text(ctx, f, "licence_code", path, node, code=True, check=rules.no_semicolon_problem)
    return Speciality(code, name, licence) if code and name else None


def _position(ctx, node, path) -> Position | None:
    f = _fields(ctx, node, path, POSITION_KEYS, "position")
    if f is None:
        return None
    code = _text(ctx, f, "code", path, node, code=True, check=rules.position_code_problem)
    name = _text(ctx, f, "name", path, node)
    if "code" not in f and "name" not in f:
        ctx.error(
            node, path, None, _("has neither code nor name"),
            _("write the befattning as %(example)s", example='{code: "204010", name: AT-läkare}')
        )
        return None
    return Position(code, name)


def _person(ctx: _Ctx, node, path: str) -> None:
    f = _fields(ctx, node, path, PERSON_KEYS, "person")
    if f is None:
        return
    hsa_id = _hsa_id(ctx, f, "hsa_id", path, node, required=True)
    given = _name(ctx, f, "given_name", path, node, required=True)
    surname = _name(ctx, f, "surname", path, node, required=True)
    full_name = _name(ctx, f, "full_name", path, node) or (
        f"{given} {surname}" if given and surname else None
    )
    titles = _text_list(ctx, f, "titles", path, "[Läkare]")
    for index, title in enumerate(titles):
        if title not in rules.KNOWN_TITLES:
            guess = rules.did_you_mean(title, rules.KNOWN_TITLES)
            if guess:
                hint = _('did you mean "%(guess)s"? Webcert compares titles exactly, e.g. '
                         "Läkare, Sjuksköterska", guess=guess)
            else:
                hint = _("Webcert compares titles exactly, e.g. Läkare, Sjuksköterska")
            ctx.warn(
                f["titles"].value[index],
                f"{path}.titles[{index}]",
                title,
                _("is not a legitimerad yrkesgrupp as HSA writes it"),
                hint,
            )
    prescriber = _text(
        ctx, f, "prescriber_code", path, node, code=True, check=rules.prescriber_code_problem
    )
    groups = _text_list(
        ctx,
        f,
        "group_prescriber_codes",
        path,
        '["9300005"]',
        code=True,
        check=rules.group_prescriber_code_problem,
    )
    specialities = []
    for item_path, item in _items(ctx, f, "specialities", path, "[{code: ..., name: ...}]"):
        speciality = _speciality(ctx, item, item_path)
        if speciality:
            specialities.append(speciality)
    positions = []
    for item_path, item in _items(ctx, f, "positions", path, '[{code: "204010", name: AT-läkare}]'):
        position = _position(ctx, item, item_path)
        if position:
            positions.append(position)
    unit = _ref(ctx, f, "unit", path, node)
    mail = _text(ctx, f, "mail", path, node, check=rules.email_problem)
    uses_webcert = _bool(ctx, f, "uses_webcert", path, True)
    siths = None
    siths_node = f.get("siths")
    if siths_node is not None and not _is_null(siths_node):
        s = _fields(ctx, siths_node, f"{path}.siths", SITHS_KEYS, "siths")
        if s is not None:
            siths = SithsIdentity(
                _text(ctx, s, "card_number", f"{path}.siths", siths_node, code=True),
                _hsa_id(ctx, s, "serial_number", f"{path}.siths", siths_node),
            )
    expected = None
    role_node = f.get("expected_role")
    role_text = _text(ctx, f, "expected_role", path, node)
    if role_text:
        expected = parse_role_name(role_text)
        if expected is None:
            ctx.error(
                role_node,
                f"{path}.expected_role",
                role_text,
                _("is not a Webcert role"),
                _("use one of: %(roles)s", roles=", ".join(v.lower() for v in ROLE_LABELS.values())),
            )
    if "Läkare" in titles and prescriber is None and not groups and "prescriber_code" not in f:
        ctx.warn(
            f["titles"],
            f"{path}.prescriber_code",
            None,
            _("is missing: this person has the title Läkare but no förskrivarkod"),
            _('add the förskrivarkod from Socialstyrelsen (prescriber_code: "1234567"); an '
              "AT-läkare without one uses a gruppförskrivarkod (group_prescriber_codes)"),
        )
    origin = Origin(ctx.file, _line(node))
    person = Person(
        hsa_id,
        given,
        surname,
        full_name,
        tuple(titles),
        prescriber,
        tuple(groups),
        tuple(specialities),
        tuple(positions),
        unit.hsa_id if unit else None,
        mail,
        uses_webcert,
        siths,
        expected,
        origin,
    )
    if expected:
        _check_expected_role(ctx, person, role_node, f"{path}.expected_role")
    entry = Entry("person", person, ctx.file, path, origin.line, _id_line(f, node))
    if unit:
        entry.refs.append(unit)
    ctx.people.append(entry)


def _check_expected_role(ctx, person: Person, role_node, path) -> None:
    decision = resolve_role(person.titles, person.position_codes, person.group_prescriber_codes)
    if decision.role == person.expected_role:
        return
    hint = _("Webcert decides: %(reason)s", reason=decision.reason)
    if person.expected_role == "LAKARE":
        hint = _(
            "add the title Läkare, or befattningskod 204010 (AT) / 203020 (BT), or "
            "203090 with gruppförskrivarkod 9300005/9400003, or 204090 with 9100009/9200007"
        )
        for position, pairs in POSITION_GROUP_PAIRS.items():
            if position in person.position_codes:
                codes = _(" or ").join(pairs)
                hint = _("befattningskod %(position)s needs gruppförskrivarkod %(codes)s",
                         position=position, codes=codes)
    ctx.warn(
        role_node,
        path,
        ROLE_LABELS[person.expected_role].lower(),
        _("is expected, but Webcert will make this person %(role)s (%(reason)s)",
          role=ROLE_LABELS[decision.role].lower(), reason=decision.reason),
        hint,
    )


def _commission(ctx: _Ctx, node, path: str) -> None:
    f = _fields(ctx, node, path, COMMISSION_KEYS, "commission")
    if f is None:
        return
    hsa_id = _hsa_id(ctx, f, "hsa_id", path, node, required=True)
    name = _name(ctx, f, "name", path, node, required=True)
    unit = _ref(ctx, f, "unit", path, node, required=True)
    purpose = _text(ctx, f, "purpose", path, node)
    if purpose is None:
        purpose = CARE_PURPOSE
    elif not is_care_commission(purpose):
        close = rules.did_you_mean(purpose, (CARE_PURPOSE,), cutoff=0.75)
        if close:
            ctx.warn(
                f["purpose"],
                f"{path}.purpose",
                purpose,
                _("looks like a misspelling: Webcert only counts the exact purpose"),
                _('write "%(purpose)s"', purpose=CARE_PURPOSE),
            )
    rights = _text_list(ctx, f, "rights", path, '["Läsa;alla;SJF"]', check=rules.right_problem)
    members = []
    refs = []
    seen: dict[str, int] = {}
    for index, (item_path, item) in enumerate(_items(ctx, f, "members", path, "[SE...-P0001]")):
        text = _scalar_text(ctx, item, item_path, hint=_("write the member's HSA-id"))
        if text is None:
            continue
        if text in seen:
            ctx.warn(
                item,
                item_path,
                text,
                _("is listed twice (also %(other)s)", other=path + ".members[" + str(seen[text]) + "]"),
                _("list each member once"),
            )
            continue
        seen[text] = index
        members.append(text)
        refs.append(Ref(text, ctx.file, _line(item), item_path))
    valid_from = _date(ctx, f, "valid_from", path)
    valid_to = _date(ctx, f, "valid_to", path)
    if valid_from and valid_to and valid_from > valid_to:
        ctx.error(
            f["valid_to"],
            f"{path}.valid_to",
            valid_to,
            _("is before valid_from (%(date)s)", date=valid_from.isoformat()),
            _("valid_from must be on or before valid_to"),
        )
    if valid_to and valid_to < date.today():
        ctx.warn(
            f["valid_to"],
            f"{path}.valid_to",
            valid_to,
            _("is in the past: the commission has ended, and Webcert does not let its members "
              "in through it"),
            _("give it a new end date (valid_to), or add a new commission for the members"),
        )
    origin = Origin(ctx.file, _line(node))
    commission = Commission(
        hsa_id,
        name,
        unit.hsa_id if unit else None,
        purpose,
        tuple(rights),
        tuple(members),
        valid_from,
        valid_to,
        origin,
    )
    entry = Entry("commission", commission, ctx.file, path, origin.line, _id_line(f, node))
    if unit:
        entry.refs.append(unit)
    entry.members = refs
    ctx.commissions.append(entry)


# ---------------------------------------------------------------- files


def load_and_validate(path: str, strict_ids: bool = True, follow_symlinks: bool = False,
                      symlink_roots=()) -> LoadResult:
    # Loading allocates hundreds of thousands of small objects without reference
    # cycles; the cyclic garbage collector would walk them again and again (that is
    # up to half the time for 10,000 people). It is switched back on afterwards.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(path, strict_ids, follow_symlinks, symlink_roots)
    finally:
        if was_enabled:
            gc.enable()


_REFUSED = {
    (OUTSIDE, False): (
        N_("is a link to a file outside the description folder; it was not read"),
        N_("copy the file into the description folder (links are easy to miss in a review); "
           "to follow links on purpose, set hsa_follow_symlinks: true and list the folder it "
           "points into in hsa_symlink_roots"),
    ),
    (OUTSIDE, True): (
        N_("is a link to a folder outside the description folder; it was not read"),
        N_("move the files into the description folder (links are easy to miss in a review); "
           "to follow links on purpose, set hsa_follow_symlinks: true and list the folder it "
           "points into in hsa_symlink_roots"),
    ),
    (NOT_A_FILE, False): (
        N_("is not a regular file (a pipe, socket or device); it was not read"),
        N_("replace it with an ordinary YAML file"),
    ),
    (LOOP, True): (
        N_("is a link to a folder inside the description; its files are read where they are, "
           "not a second time through the link"),
        N_("remove the link"),
    ),
}


def _refused(findings, refused) -> bool:
    """Report each refused entry by name only; True when one of them is an error."""
    error = False
    for entry in refused:
        message, hint = _REFUSED[(entry.reason, entry.folder)]
        severity = WARNING if entry.reason == LOOP else ERROR
        error = error or severity == ERROR
        add_finding(findings, severity, entry.shown, 0, "", None, _(message), _(hint))
    return error


def _load(path: str, strict_ids: bool, follow_symlinks=False, symlink_roots=()) -> LoadResult:
    findings = Findings()
    refused_error = False
    if os.path.isdir(path):
        files, refused = scan_description(path, follow_symlinks, symlink_roots)
        refused_error = _refused(findings, refused)
        top = path
        if not files and not refused_error:
            add_finding(
                findings,
                ERROR,
                path,
                0,
                "",
                None,
                _("is a folder with no .yml or .yaml files"),
                _("point hsa_provider_path at the folder or file holding the description"),
            )
            return LoadResult(None, findings)
    elif os.path.isfile(path):
        files = [(path, os.path.basename(path))]
        top = files[0][1]
    else:
        add_finding(
            findings,
            ERROR,
            path,
            0,
            "",
            None,
            _("does not exist"),
            _("point hsa_provider_path at a YAML file or a folder of YAML files"),
        )
        return LoadResult(None, findings)

    providers, units, people, commissions = [], [], [], []
    unreadable = refused_error  # the provider may be in a refused file
    sources: list[tuple[str, bytes | None]] = []
    for full, display in files:
        doc = read_yaml_file(full, display)
        sources.append((display, doc.data))
        findings.extend(doc.findings)
        unreadable = unreadable or bool(doc.findings)
        if doc.empty:
            only = len(files) == 1
            unreadable = unreadable or only  # "provider is missing" would say nothing new
            add_finding(
                findings,
                ERROR if only else WARNING,
                display,
                0,
                "",
                None,
                _("is empty"),
                _("write the description in it (provider, units, people, commissions)")
                if only
                else _("it is ignored; add content or delete the file"),
            )
        if doc.root is None:
            continue
        ctx = _Ctx(display, strict_ids, findings)
        if not _convert_file(ctx, doc.root):
            unreadable = True
        providers += ctx.provider
        units += ctx.units
        people += ctx.people
        commissions += ctx.commissions

    cross_check(findings, providers, units, people, commissions, top, unreadable)
    findings.sort(key=lambda f: (f.file, f.line))
    if any(f.severity == ERROR for f in findings):
        return LoadResult(None, findings)
    model = ProviderModel(
        provider=providers[0].obj,
        units=tuple(e.obj for e in units),
        people=tuple(e.obj for e in people),
        commissions=tuple(e.obj for e in commissions),
    )
    digest = None
    if all(data is not None for _unused, data in sources):
        digest = content_digest(sources)
    return LoadResult(model, findings, digest)
