"""Every validation rule of the provider description: a failing and a passing case each."""

from __future__ import annotations

from datetime import date

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description import (
    rules as rules,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import use_language
from hsa_model_helpers import VALID, line_of, load_text, only, texts, variant


@pytest.fixture(autouse=True)
def _english():
    """These tests check the rules against the English messages (the catalog's msgids);
    the Swedish ones (the default) are checked in test_findings_language.py."""
    with use_language("en"):
        yield


def test_the_valid_description_loads_without_findings(tmp_path):
    result = load_text(tmp_path, VALID)
    assert result.findings == [], texts(result)
    model = result.model
    assert model.provider.org_no == "559912-3451"
    assert model.provider.onboarding.registration_sent == date(2026, 9, 1)
    assert model.provider.onboarding.agreement_signed == date(2026, 9, 22)
    assert model.provider.onboarding.technical_order == "BS-1"
    assert [u.hsa_id for u in model.units] == ["SE5599123451-E100", "SE5599123451-E110"]
    assert model.unit("SE5599123451-E110").parent == "SE5599123451-E100"
    assert model.unit("SE5599123451-E100").workplace_codes == ("4711001",)
    asa = model.person("SE5599123451-P101")
    assert asa.full_name == "Åsa Öberg"  # default: given name + surname
    assert asa.titles == ("Läkare",)
    assert asa.specialities[0].licence_code == "LK"
    assert asa.siths.card_number == "9752269000000101"
    assert asa.expected_role == "LAKARE"
    assert asa.uses_webcert is True
    assert asa.origin.file == "provider.yml"
    assert asa.origin.line == line_of(VALID, "SE5599123451-P101")
    karl = model.person("SE5599123451-P102")
    assert karl.position_codes == ("204010",)
    assert karl.siths is None
    commission = model.commission("SE5599123451-M100")
    assert commission.valid_from == date(2026, 1, 1)
    assert commission.valid_to == date(2036, 12, 31)
    assert model.commissions_of("SE5599123451-P102") == (commission,)
    assert model.commissions_of("SE5599123451-P999") == ()
    assert model.unit("nope") is None
    assert model.sub_units("SE5599123451-E100") == (model.unit("SE5599123451-E110"),)


# (id, old text, new text, field path, needle for the expected line, message part)
ERRORS = [
    (
        "hsa_id-shape",
        "hsa_id: SE5599123451-E100",
        "hsa_id: SE559912345-E100",
        "units[0].hsa_id",
        "SE559912345-E100",
        "is not an HSA-id",
    ),
    (
        "hsa_id-too-long",
        "hsa_id: SE5599123451-E100",
        "hsa_id: SE5599123451-E1000000000000000000",
        "units[0].hsa_id",
        "E1000000000",
        "at most 31",
    ),
    (
        "hsa_id-umlaut",
        "hsa_id: SE5599123451-P102",
        "hsa_id: SE5599123451-PÅ02",
        "people[1].hsa_id",
        "PÅ02",
        "is not an HSA-id",
    ),
    (
        "hsa_id-number",
        "hsa_id: SE5599123451-E110",
        "hsa_id: 5599123451",
        "units[1].hsa_id",
        "hsa_id: 5599123451",
        "is a number, not text",
    ),
    (
        "org_no-luhn",
        'org_no: "559912-3451"',
        'org_no: "559912-3452"',
        "provider.org_no",
        "org_no",
        "check digit",
    ),
    (
        "org_no-digits-3-4",
        'org_no: "559912-3451"',
        'org_no: "551912-3451"',
        "provider.org_no",
        "org_no",
        "digits 3-4",
    ),
    (
        "org_no-format",
        'org_no: "559912-3451"',
        'org_no: "5599-123451"',
        "provider.org_no",
        "org_no",
        "is not an organisationsnummer",
    ),
    (
        "org_no-missing",
        '  org_no: "559912-3451"\n',
        "",
        "provider.org_no",
        "SE5599123451-VG01",
        "is missing",
    ),
    (
        "prescriber-6-digits",
        'prescriber_code: "1234567"',
        'prescriber_code: "123456"',
        "people[0].prescriber_code",
        "prescriber_code",
        "must be 7 digits",
    ),
    (
        "prescriber-letters",
        'prescriber_code: "1234567"',
        'prescriber_code: "12345a7"',
        "people[0].prescriber_code",
        "prescriber_code",
        "must be 7 digits",
    ),
    (
        "group-code",
        "group_prescriber_codes: []",
        'group_prescriber_codes: ["930000"]',
        "people[0].group_prescriber_codes[0]",
        "group_prescriber_codes",
        "must be 7 digits",
    ),
    (
        "position-code",
        '{code: "201010"',
        '{code: "20101"',
        "people[0].positions[0].code",
        "20101",
        "must be 6 digits",
    ),
    (
        "position-empty",
        '{code: "201010", name: Överläkare}',
        "{}",
        "people[0].positions[0]",
        "- {}",
        "neither code nor name",
    ),
    (
        "workplace-letters",
        '["4711001"]',
        '["47110A1"]',
        "units[0].workplace_codes[0]",
        "47110A1",
        "must be digits",
    ),
    (
        "workplace-too-long",
        '["4711001"]',
        '["47110010000"]',
        "units[0].workplace_codes[0]",
        "47110010000",
        "must be digits",
    ),
    (
        "workplace-empty",
        '["4711001"]',
        "[]",
        "units[0].workplace_codes",
        "workplace_codes: []",
        "is missing or empty",
    ),
    (
        "workplace-missing",
        '    workplace_codes: ["4711011"]\n',
        "",
        "units[1].workplace_codes",
        "SE5599123451-E110",
        "is missing or empty",
    ),
    (
        "unit-email-missing",
        "    email: bvc@example.se\n",
        "",
        "units[1].email",
        "SE5599123451-E110",
        "is missing",
    ),
    (
        "unit-email-shape",
        "email: norr@example.se",
        "email: norr@",
        "units[0].email",
        "norr@",
        "is not an e-mail address",
    ),
    (
        "person-mail-shape",
        "mail: asa@example.se",
        "mail: asa example.se",
        "people[0].mail",
        "asa example.se",
        "is not an e-mail address",
    ),
    (
        "date-order",
        'valid_to: "2036-12-31"',
        'valid_to: "2025-12-31"',
        "commissions[0].valid_to",
        "valid_to",
        "is before valid_from",
    ),
    (
        "date-not-real",
        'valid_to: "2036-12-31"',
        'valid_to: "2026-02-30"',
        "commissions[0].valid_to",
        "valid_to",
        "is not a real calendar date",
    ),
    (
        "date-shape",
        'valid_to: "2036-12-31"',
        'valid_to: "31/12/2026"',
        "commissions[0].valid_to",
        "valid_to",
        "is not a date",
    ),
    (
        "date-with-time",
        "valid_from: 2026-01-01",
        "valid_from: 2026-01-01 10:00:00",
        "commissions[0].valid_from",
        "valid_from",
        "time of day",
    ),
    (
        "onboarding-date",
        "registration_sent: 2026-09-01",
        "registration_sent: soon",
        "provider.onboarding.registration_sent",
        "registration_sent",
        "is not a date",
    ),
    (
        "commission-unit-unknown",
        "    unit: SE5599123451-E100\n    purpose",
        "    unit: SE5599123451-E999\n    purpose",
        "commissions[0].unit",
        "SE5599123451-E999",
        "refers to no unit",
    ),
    (
        "commission-unit-is-person",
        "    unit: SE5599123451-E100\n    purpose",
        "    unit: SE5599123451-P101\n    purpose",
        "commissions[0].unit",
        "unit: SE5599123451-P101",
        "is a person",
    ),
    (
        "commission-unit-missing",
        "    unit: SE5599123451-E100\n    purpose",
        "    purpose",
        "commissions[0].unit",
        "SE5599123451-M100",
        "is missing",
    ),
    (
        "member-unknown",
        "members: [SE5599123451-P101, SE5599123451-P102]",
        "members: [SE5599123451-P101, SE5599123451-P109]",
        "commissions[0].members[1]",
        "SE5599123451-P109",
        "refers to no person",
    ),
    (
        "person-unit-unknown",
        "    unit: SE5599123451-E110\n    expected_role",
        "    unit: SE5599123451-E111\n    expected_role",
        "people[1].unit",
        "SE5599123451-E111",
        "refers to no unit",
    ),
    (
        "parent-unknown",
        "parent: SE5599123451-E100",
        "parent: SE5599123451-E190",
        "units[1].parent",
        "parent:",
        "refers to no unit",
    ),
    (
        "parent-self",
        "parent: SE5599123451-E100",
        "parent: SE5599123451-E110",
        "units[1].parent",
        "parent:",
        "is the unit itself",
    ),
    (
        "right-shape",
        '["Läsa;alla;SJF"]',
        '["Läsa;alla"]',
        "commissions[0].rights[0]",
        "Läsa;alla",
        "is not a right",
    ),
    (
        "expected-role-unknown",
        "expected_role: LAKARE",
        "expected_role: kirurg",
        "people[1].expected_role",
        "kirurg",
        "is not a Webcert role",
    ),
    (
        "speciality-semicolon",
        "name: Allmänmedicin",
        "name: Allmän;medicin",
        "people[0].specialities[0].name",
        "Allmän;medicin",
        'must not contain ";"',
    ),
    (
        "host-group-name",
        "host_group: unit_norr",
        "host_group: unit norr",
        "units[0].host_group",
        "unit norr",
        "not a valid inventory group name",
    ),
    (
        "bool-type",
        "    expected_role: läkare\n",
        "    expected_role: läkare\n    uses_webcert: 1\n",
        "people[0].uses_webcert",
        "uses_webcert",
        "must be true or false",
    ),
    (
        "list-for-string",
        "given_name: Karl",
        "given_name: [Karl]",
        "people[1].given_name",
        "[Karl]",
        "is a list",
    ),
    (
        "string-for-list",
        "titles: [Läkare]",
        "titles: Läkare",
        "people[0].titles",
        "titles: Läkare",
        "must be a list",
    ),
    (
        "null-required",
        "surname: Lind",
        "surname: null",
        "people[1].surname",
        "surname: null",
        "is empty",
    ),
    (
        "empty-string-required",
        "name: Enhet Norr BVC",
        'name: ""',
        "units[1].name",
        'name: ""',
        "is empty",
    ),
    (
        "mapping-for-person",
        "  - hsa_id: SE5599123451-P102\n    given_name: Karl",
        "  - just text\n  - hsa_id: SE5599123451-P102\n    given_name: Karl",
        "people[1]",
        "just text",
        "must be a mapping",
    ),
    (
        "unknown-top-key",
        "commissions:\n",
        "commision:\n",
        "commision",
        "commision:",
        'did you mean "commissions"',
    ),
    (
        "escaped-control-char",
        "name: Enhet Norr BVC",
        'name: "Enhet\\x07Norr"',
        "units[1].name",
        "Enhet\\x07",
        "control character U+0007",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "path", "needle", "message"),
    [e[1:] for e in ERRORS],
    ids=[e[0] for e in ERRORS],
)
def test_error_names_file_line_field_and_fix(tmp_path, old, new, path, needle, message):
    text = variant(old, new)
    result = load_text(tmp_path, text)
    assert result.model is None
    finding = next((f for f in result.errors if f.path == path), None)
    assert finding is not None, texts(result)
    assert message in str(finding), str(finding)
    assert finding.file == "provider.yml"
    assert finding.line == line_of(text, needle)
    assert finding.hint or "did you mean" in finding.message
    assert str(finding).startswith(f"provider.yml:{finding.line} {path}: ")


# (id, old, new): variations that are valid and must give no finding at all.
PASSING = [
    ("org_no-without-hyphen", 'org_no: "559912-3451"', "org_no: 5599123451"),
    ("org_no-quoted-digits", 'org_no: "559912-3451"', 'org_no: "5599123451"'),
    ("region-org-no", 'org_no: "559912-3451"', 'org_no: "232100-0131"'),
    ("prescriber-unquoted", 'prescriber_code: "1234567"', "prescriber_code: 1234567"),
    ("prescriber-leading-zero", 'prescriber_code: "1234567"', "prescriber_code: 0123456"),
    ("group-code", "group_prescriber_codes: []", 'group_prescriber_codes: ["9300005"]'),
    ("workplace-ten-digits", '["4711001"]', '["4711001000", "4711002"]'),
    ("date-string", "valid_from: 2026-01-01", 'valid_from: "2026-01-01"'),
    ("same-day", "valid_from: 2026-01-01", "valid_from: 2036-12-31"),
    ("no-dates", '    valid_from: 2026-01-01\n    valid_to: "2036-12-31"\n', ""),
    ("onboarding-nulls", "registration_sent: 2026-09-01", "registration_sent: null"),
    ("purpose-default", "    purpose: Vård och behandling\n", ""),
    ("purpose-case", "purpose: Vård och behandling", "purpose: VÅRD OCH BEHANDLING"),
    ("role-swedish", "expected_role: LAKARE", "expected_role: Läkare"),
    ("role-no-diacritics", "expected_role: läkare", "expected_role: lakare"),
    ("no-optional-person-keys", "    mail: asa@example.se\n", ""),
    ("position-name-only", '{code: "201010", name: Överläkare}', "{name: Överläkare}"),
    (
        "uses-webcert-yes",
        "    expected_role: läkare\n",
        "    expected_role: läkare\n    uses_webcert: yes\n",
    ),
    ("host-group-absent", "    host_group: unit_norr\n", ""),
    ("empty-optional-list", "titles: [Läkare]", "titles: [Läkare]\n    group_prescriber_codes:"),
]


@pytest.mark.parametrize(("old", "new"), [p[1:] for p in PASSING], ids=[p[0] for p in PASSING])
def test_valid_variation_has_no_findings(tmp_path, old, new):
    text = variant(old, new)
    if "group_prescriber_codes:\n" in text:  # the null list replaces the [] one
        text = text.replace("    group_prescriber_codes: []\n", "")
    result = load_text(tmp_path, text)
    assert result.findings == [], texts(result)
    assert result.model is not None


def test_unknown_key_suggests_the_right_one(tmp_path):
    text = variant("email: norr@example.se", "emial: norr@example.se")
    result = load_text(tmp_path, text)
    unknown = next(f for f in result.errors if f.path == "units[0].emial")
    assert 'did you mean "email"?' in unknown.hint
    assert unknown.line == line_of(text, "emial")
    # And the e-mail is then missing, reported on the unit's first line.
    missing = next(f for f in result.errors if f.path == "units[0].email")
    assert missing.line == line_of(text, "SE5599123451-E100")


def test_swedish_key_names_point_to_the_english_key(tmp_path):
    text = variant('prescriber_code: "1234567"', 'förskrivarkod: "1234567"')
    finding = only(load_text(tmp_path, text), "error")
    assert 'did you mean "prescriber_code"?' in finding.hint


def test_person_uses_mail_and_unit_uses_email(tmp_path):
    text = variant("mail: asa@example.se", "email: asa@example.se")
    finding = only(load_text(tmp_path, text))
    assert finding.path == "people[0].email"
    assert 'did you mean "mail"?' in finding.hint


def test_strict_ids_switch_accepts_test_environment_ids(tmp_path):
    text = VALID.replace("SE5599123451-P102", "TSTNMT2321000156-DRAA")
    strict = load_text(tmp_path, text)
    assert {f.path for f in strict.errors} == {"people[1].hsa_id"}
    assert "strict_ids: false" in strict.errors[0].hint
    relaxed = load_text(tmp_path, text, strict_ids=False)
    assert relaxed.findings == [], texts(relaxed)
    assert relaxed.model.person("TSTNMT2321000156-DRAA") is not None


def test_relaxed_ids_still_refuse_spaces_and_at_signs(tmp_path):
    text = VALID.replace("SE5599123451-P102", "TST user@x")
    result = load_text(tmp_path, text, strict_ids=False)
    assert any(f.path == "people[1].hsa_id" and "relaxed" in f.message for f in result.errors)


def test_duplicate_hsa_id_names_both_places(tmp_path):
    text = variant("hsa_id: SE5599123451-M100", "hsa_id: SE5599123451-P101")
    finding = only(load_text(tmp_path, text))
    assert finding.path == "commissions[0].hsa_id"
    assert finding.line == line_of(text, "hsa_id: SE5599123451-P101", 2)
    assert f"provider.yml:{line_of(text, 'hsa_id: SE5599123451-P101')}" in finding.message


def test_duplicate_hsa_id_ignores_case(tmp_path):
    text = variant("hsa_id: SE5599123451-M100", "hsa_id: se5599123451-p101")
    result = load_text(tmp_path, text, strict_ids=False)
    assert any("is used twice" in f.message for f in result.errors), texts(result)


def test_unit_parent_cycle_is_an_error(tmp_path):
    text = variant(
        "    host_group: unit_norr\n",
        "    host_group: unit_norr\n    parent: SE5599123451-E110\n",
    )
    result = load_text(tmp_path, text)
    cycle = [f for f in result.errors if "loop of sub-units" in f.message]
    assert len(cycle) == 1, texts(result)
    assert "SE5599123451-E100 → SE5599123451-E110 → SE5599123451-E100" in cycle[0].message


def test_sub_unit_chain_of_three_levels_is_valid(tmp_path):
    third = (
        "  - hsa_id: SE5599123451-E111\n    name: Enhet Norr BVC Team\n"
        "    parent: SE5599123451-E110\n    email: team@example.se\n"
        '    workplace_codes: ["4711111"]\npeople:\n'
    )
    text = variant("people:\n", third)
    result = load_text(tmp_path, text)
    assert result.findings == [], texts(result)
    chain, unit = [], result.model.unit("SE5599123451-E111")
    while unit:
        chain.append(unit.hsa_id)
        unit = result.model.unit(unit.parent) if unit.parent else None
    assert chain == ["SE5599123451-E111", "SE5599123451-E110", "SE5599123451-E100"]


def test_three_unit_cycle_reported_once(tmp_path):
    third = (
        "  - hsa_id: SE5599123451-E111\n    name: C\n    parent: SE5599123451-E110\n"
        '    email: c@example.se\n    workplace_codes: ["4711111"]\npeople:\n'
    )
    text = variant("people:\n", third)
    text = variant(
        "    host_group: unit_norr\n",
        "    host_group: unit_norr\n    parent: SE5599123451-E111\n",
        text,
    )
    result = load_text(tmp_path, text)
    assert sum("loop of sub-units" in f.message for f in result.errors) == 1, texts(result)


def test_person_without_care_commission_is_a_warning(tmp_path):
    text = variant("purpose: Vård och behandling", "purpose: Administration")
    result = load_text(tmp_path, text)
    warnings = [f for f in result.warnings if "none with the purpose" in f.message]
    assert {f.path for f in warnings} == {"people[0]", "people[1]"}
    assert result.errors == []
    assert result.model is not None  # warnings do not fail


def test_misspelt_purpose_gets_a_warning(tmp_path):
    text = variant("purpose: Vård och behandling", "purpose: Vård och behandlingg")
    result = load_text(tmp_path, text)
    assert any(
        f.path == "commissions[0].purpose" and "misspelling" in f.message for f in result.warnings
    ), texts(result)


def test_person_with_no_commission_is_a_warning_unless_not_using_webcert(tmp_path):
    text = variant(
        "members: [SE5599123451-P101, SE5599123451-P102]", "members: [SE5599123451-P101]"
    )
    finding = only(load_text(tmp_path, text))
    assert finding.severity == "warning"
    assert finding.path == "people[1]"
    assert "has no commission" in finding.message
    assert finding.line == line_of(text, "hsa_id: SE5599123451-P102")
    quiet = variant("expected_role: LAKARE", "expected_role: LAKARE\n    uses_webcert: false", text)
    assert load_text(tmp_path, quiet).findings == []


def test_listed_doctor_that_webcert_does_not_make_a_doctor(tmp_path):
    text = variant('{code: "204010", name: AT-läkare}', '{code: "203090", name: Läkare}')
    finding = only(load_text(tmp_path, text))
    assert finding.severity == "warning"
    assert finding.path == "people[1].expected_role"
    assert "vårdadministratör" in finding.message
    assert "9300005 or 9400003" in finding.hint
    fixed = variant(
        "    expected_role: LAKARE",
        '    group_prescriber_codes: ["9300005"]\n    expected_role: LAKARE',
        text,
    )
    assert load_text(tmp_path, fixed).findings == []


def test_expected_role_other_than_doctor_mismatch(tmp_path):
    text = variant("expected_role: läkare", "expected_role: sjuksköterska")
    finding = only(load_text(tmp_path, text))
    assert "will make this person läkare" in finding.message


def test_title_spelling_warning(tmp_path):
    text = variant("titles: [Läkare]", "titles: [läkare]")
    result = load_text(tmp_path, text)
    title = next(f for f in result.warnings if f.path == "people[0].titles[0]")
    assert 'did you mean "Läkare"?' in title.hint


def test_placeholder_and_short_workplace_codes_are_warnings(tmp_path):
    text = variant('["4711001"]', '["0000000", "47110"]')
    result = load_text(tmp_path, text)
    assert result.errors == []
    paths = {f.path: f.message for f in result.warnings}
    assert "placeholder" in paths["units[0].workplace_codes[0]"]
    assert "usually have 7 to 10" in paths["units[0].workplace_codes[1]"]


def test_unquoted_codes_keep_leading_zeros(tmp_path):
    text = variant('["4711001"]', "[0471100]")
    result = load_text(tmp_path, text)
    assert result.model.unit("SE5599123451-E100").workplace_codes == ("0471100",)


def test_duplicate_member_is_a_warning(tmp_path):
    text = variant(
        "members: [SE5599123451-P101, SE5599123451-P102]",
        "members: [SE5599123451-P101, SE5599123451-P102, SE5599123451-P101]",
    )
    finding = only(load_text(tmp_path, text))
    assert finding.severity == "warning" and finding.path == "commissions[0].members[2]"


def test_provider_missing_is_an_error(tmp_path):
    text = VALID.split("units:\n", 1)[1]
    finding = only(load_text(tmp_path, "units:\n" + text))
    assert finding.path == "provider" and "is missing" in finding.message


def test_every_error_is_collected_before_failing(tmp_path):
    text = variant('prescriber_code: "1234567"', 'prescriber_code: "12"')
    text = variant("email: norr@example.se", "email: nope", text)
    text = variant('org_no: "559912-3451"', 'org_no: "559912-3452"', text)
    result = load_text(tmp_path, text)
    assert {f.path for f in result.errors} == {
        "people[0].prescriber_code",
        "units[0].email",
        "provider.org_no",
    }
    assert [f.line for f in result.findings] == sorted(f.line for f in result.findings)


def test_finding_text_format_and_dict():
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
        Finding,
    )

    finding = Finding(
        "error",
        "people.yml",
        42,
        "people[3].prescriber_code",
        "12345",
        "must be 7 digits",
        'the förskrivarkod, e.g. "1234567"',
    )
    expected = (
        'people.yml:42 people[3].prescriber_code: "12345" must be 7 digits '
        '(the förskrivarkod, e.g. "1234567")'
    )
    assert str(finding) == expected
    assert finding.to_dict()["text"] == expected
    assert finding.to_dict()["line"] == 42


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("559912-3451", True),
        ("5599123451", True),
        ("232100-0131", True),
        ("559912-3450", False),
        ("550012-3451", False),
        ("55991-23451", False),
        ("", False),
    ],
)
def test_org_no_rule(value, ok):
    assert (rules.org_no_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "strict", "ok"),
    [
        ("SE2321000131-P000000123457", True, True),
        ("SE5599123451-a1", True, True),
        ("SE5599123451-", True, False),
        ("SE559912345-1", True, False),
        ("SE5599123451-P" + "1" * 18, True, False),
        ("SE5599123451-P" + "1" * 17, True, True),
        ("TSTNMT2321000156-DRAA", True, False),
        ("TSTNMT2321000156-DRAA", False, True),
        ("SE5599123451-P@1", False, False),
    ],
)
def test_hsa_id_rule(value, strict, ok):
    assert (rules.hsa_id_problem(value, strict) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("a@example.se", True),
        ("a.b+c@sub.example.com", True),
        ("a@", False),
        ("a@b", False),
        ("a b@example.se", False),
        ("@example.se", False),
    ],
)
def test_email_rule(value, ok):
    assert (rules.email_problem(value) is None) is ok


def test_luhn_check_digit():
    assert rules.luhn_check_digit("232100013") == 1
    assert rules.luhn_check_digit("559912345") == 1


def test_two_units_sharing_a_host_group_is_a_warning(tmp_path):
    text = variant(
        '    workplace_codes: ["4711011"]\n',
        '    workplace_codes: ["4711011"]\n    host_group: unit_norr\n',
    )
    finding = only(load_text(tmp_path, text))
    assert (finding.severity, finding.path) == ("warning", "units[1].host_group")
    assert "SE5599123451-E100" in finding.message


def test_findings_convert_to_json(tmp_path):
    import json

    text = variant('valid_to: "2036-12-31"', 'valid_to: "2025-12-31"')
    dicts = [f.to_dict() for f in load_text(tmp_path, text).findings]
    assert json.loads(json.dumps(dicts))[0]["value"] == "2025-12-31"
