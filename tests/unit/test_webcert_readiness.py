"""Readiness rules: who can work in Webcert, and what to fix for those who cannot."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (
    build_readiness,
)
from readiness_factory import (
    NORR,
    SODER,
    TODAY,
    as_directory,
    certs,
    commission,
    model,
    person,
    provider,
    unit,
)

DOC = "SE5565594230-P001"
NURSE = "SE5565594230-P002"
AT = "SE5565594230-P003"
ADMIN = "SE5565594230-P004"

ALL_OK_CERTS = certs(*((i, "ok", [], []) for i in (DOC, NURSE, AT, ADMIN)))


def base_desired(**over):
    people = over.pop("people", (
        person(DOC, "Anna Läkare", expected_role="LAKARE", line=10),
        person(NURSE, "Sara Sjuksköterska", titles=("Sjuksköterska",), line=20),
    ))
    comms = over.pop("commissions", (commission("SE5565594230-C001", (DOC, NURSE)),))
    units = over.pop("units", (unit(),))
    return model(over.pop("prov", None), units, people, comms)


def run(desired, actual=None, certificates=ALL_OK_CERTS, workstations=None, today=TODAY):
    actual = as_directory(desired) if actual is None else actual
    return build_readiness(desired, actual, today, certificates, workstations)


def by_id(report, hsa_id):
    return next(p for p in report["people"] if p["hsa_id"] == hsa_id)


def unit_of(report, hsa_id):
    return next(u for u in report["units"] if u["hsa_id"] == hsa_id)


@pytest.fixture(autouse=True)
def english():
    """These rules are checked on the English text; test_readiness_swedish.py checks Swedish."""
    with use_language("en"):
        yield


def messages(entry, key="problems"):
    return " | ".join(p["message"] for p in entry[key])


def fixes(entry, key="problems"):
    return " | ".join(f"{p['fix']} {p.get('it', '')}" for p in entry[key])


def test_everyone_ready_when_directory_matches_and_certificates_are_valid():
    report = run(base_desired())
    assert [p["status"] for p in report["people"]] == ["ready", "ready"]
    doc = by_id(report, DOC)
    assert doc["role"] == "LAKARE" and doc["role_label"] == "Doctor"
    assert doc["unit_ids"] == [NORR]
    assert doc["rehabstod"] is True and doc["rehabstod_units"] == [NORR]
    assert by_id(report, NURSE)["rehabstod"] is False
    assert report["exit"]["failed"] is False
    assert report["summary"]["ready"] == 2 and report["summary"]["blocked"] == 0
    assert unit_of(report, NORR)["people_ready"] == [DOC, NURSE]


def test_person_missing_from_directory_is_blocked_and_told_to_run_hsa():
    desired = base_desired()
    actual = as_directory(replace(desired, people=desired.people[1:]))
    report = run(desired, actual)
    doc = by_id(report, DOC)
    assert doc["status"] == "blocked"
    assert "is not in HSA" in messages(doc)
    assert "units/norr.yml:10" in fixes(doc) and "hsa.yml" in fixes(doc)
    assert doc["role"] is None
    assert report["exit"]["failed"] is True and report["exit"]["blocked"] == [DOC]


def test_commission_with_other_purpose_does_not_count():
    desired = base_desired(commissions=(
        commission("SE5565594230-C001", (DOC, NURSE), purpose="Administration"),))
    report = run(desired)
    doc = by_id(report, DOC)
    assert doc["status"] == "blocked" and doc["unit_ids"] == []
    assert 'purpose "Administration"' in messages(doc)
    assert "members of a commission" in fixes(doc)
    assert doc["rehabstod"] is False


def test_purpose_is_compared_ignoring_case():
    desired = base_desired(commissions=(
        commission("SE5565594230-C001", (DOC, NURSE), purpose="VÅRD OCH BEHANDLING"),))
    assert by_id(run(desired), DOC)["status"] == "ready"


def test_ended_commission_blocks_and_names_the_end_date():
    desired = base_desired(commissions=(
        commission("SE5565594230-C001", (DOC, NURSE), valid_to=date(2026, 11, 25)),))
    doc = by_id(run(desired), DOC)
    assert doc["status"] == "blocked"
    assert "ended on 2026-11-25" in messages(doc)
    assert "new end date" in fixes(doc) and "members" not in fixes(doc)


def test_commission_ending_today_still_counts():
    desired = base_desired(commissions=(
        commission("SE5565594230-C001", (DOC, NURSE), valid_to=TODAY),))
    assert by_id(run(desired), DOC)["status"] == "ready"


def test_commission_only_in_yaml_means_the_directory_drifted():
    desired = base_desired()
    actual = as_directory(replace(desired, commissions=()))
    doc = by_id(run(desired, actual), DOC)
    assert doc["status"] == "blocked"
    assert "does not match" in fixes(doc) and "units/norr.yml:30" in fixes(doc)


def test_commission_on_unit_missing_from_directory_does_not_count():
    desired = base_desired()
    actual = as_directory(desired)
    actual = replace(actual, units=())
    doc = by_id(run(desired, actual), DOC)
    assert doc["unit_ids"] == [] and doc["status"] == "blocked"
    assert "not in HSA" in messages(doc)


@pytest.mark.parametrize(("field", "attr", "yaml_field"), [
    ("email", "e-mail address", "email"),
    ("workplace_codes", "workplace code", "workplace_codes"),
])
def test_unit_without_mandatory_attribute_blocks_its_people(field, attr, yaml_field):
    empty = None if field == "email" else ()
    desired = base_desired(units=(replace(unit(), **{field: empty}),))
    report = run(desired)
    norr = unit_of(report, NORR)
    assert norr["status"] == "blocked"
    assert f"no {attr}" in messages(norr)
    assert f"set {yaml_field} of the unit in units/norr.yml:2" in fixes(norr)
    doc = by_id(report, DOC)
    assert doc["status"] == "blocked" and f"no {attr}" in messages(doc)
    assert norr["people_not_ready"] == [DOC, NURSE]


def test_attribute_in_yaml_but_not_in_directory_is_drift():
    desired = base_desired()
    actual = as_directory(replace(desired, units=(unit(codes=()),)))
    norr = unit_of(run(desired, actual), NORR)
    assert "workplace code" in messages(norr)
    assert "does not match" in fixes(norr) and "hsa.yml" in fixes(norr)


def test_broken_second_unit_only_warns_when_another_unit_works():
    soder = unit(SODER, "Vårdcentralen Söder", codes=(), file="units/soder.yml")
    desired = base_desired(units=(unit(), soder), commissions=(
        commission("SE5565594230-C001", (DOC, NURSE)),
        commission("SE5565594230-C002", (DOC,), unit_id=SODER, file="units/soder.yml")))
    doc = by_id(run(desired), DOC)
    assert doc["status"] == "warning"
    assert doc["unit_ids"] == sorted([NORR, SODER])
    assert "Söder has no workplace code (arbetsplatskod)" in messages(doc, "warnings")


def test_provider_without_org_no_blocks_everyone():
    desired = base_desired()
    actual = as_directory(replace(desired, provider=provider(org_no=None)))
    report = run(desired, actual)
    assert report["provider"]["status"] == "blocked"
    assert all(p["status"] == "blocked" for p in report["people"])
    assert "organisation number" in messages(by_id(report, NURSE))
    assert "does not match" in fixes(report["provider"])


def test_at_doctor_by_position_code_is_a_doctor():
    desired = base_desired(people=(
        person(AT, "Adam AT", titles=(), positions=("204010",), expected_role="LAKARE"),),
        commissions=(commission("SE5565594230-C001", (AT,)),))
    at = by_id(run(desired, certificates=certs((AT, "ok", [], []))), AT)
    assert at["status"] == "ready" and at["role"] == "LAKARE" and at["rehabstod"]


def test_doctor_position_without_group_code_gets_vardadministrator_and_is_blocked():
    desired = base_desired(people=(
        person(AT, "Adam Vikarie", titles=(), positions=("204090",), expected_role="LAKARE"),),
        commissions=(commission("SE5565594230-C001", (AT,)),))
    at = by_id(run(desired, certificates=certs((AT, "ok", [], []))), AT)
    assert at["role"] == "VARDADMINISTRATOR"
    assert at["status"] == "blocked"
    assert "should be Doctor in Webcert, but Webcert will make them Care administrator" in messages(at)
    assert "9100009 or 9200007" in fixes(at) and "group_prescriber_codes" in fixes(at)
    assert at["rehabstod"] is False


def test_role_is_computed_from_the_directory_not_the_yaml():
    desired = base_desired()
    actual = as_directory(desired)
    actual = replace(actual, people=tuple(replace(p, titles=()) for p in actual.people))
    doc = by_id(run(desired, actual), DOC)
    assert doc["role"] == "VARDADMINISTRATOR" and doc["status"] == "blocked"
    assert "does not match" in fixes(doc)


def test_certificate_error_blocks_and_expiry_warns():
    findings = certs((DOC, "error", ["authentication certificate: expired 2026-10-01"], []),
                     (NURSE, "warning", [], ["signing certificate: expires in 12 days"]))
    report = run(base_desired(), certificates=findings)
    doc, nurse = by_id(report, DOC), by_id(report, NURSE)
    assert doc["status"] == "blocked" and "expired 2026-10-01" in messages(doc)
    assert doc["certificates"]["status"] == "error"
    assert nurse["status"] == "warning" and "12 days" in messages(nurse, "warnings")


def test_certificate_error_without_text_still_blocks():
    report = run(base_desired(), certificates=certs((DOC, "error", [], []),
                                                    (NURSE, "ok", [], [])))
    assert "no valid pair of certificates" in messages(by_id(report, DOC))


def test_no_certificate_report_is_a_warning_not_a_pass():
    report = run(base_desired(), certificates=None)
    doc = by_id(report, DOC)
    assert doc["status"] == "warning" and doc["certificates"]["checked"] is False
    assert "siths.yml" in fixes(doc, "warnings")
    assert report["exit"]["failed"] is False


def test_people_not_using_webcert_do_not_fail_the_run():
    desired = base_desired(people=(
        person(DOC, "Anna Läkare"), person(ADMIN, "Per Ekonomi", titles=(), uses_webcert=False)))
    report = run(desired)
    assert by_id(report, ADMIN)["status"] == "blocked"
    assert report["exit"]["failed"] is False
    assert report["summary"]["expected"] == 1 and report["summary"]["not_expected"] == 1


def test_person_only_in_directory_is_reported_with_a_warning():
    desired = base_desired()
    extra = person(ADMIN, "Okänd Person", titles=())
    actual = as_directory(replace(desired, people=(*desired.people, extra)))
    entry = by_id(run(desired, actual, certificates=None), ADMIN)
    assert entry["in_description"] is False
    assert "not in the provider description" in messages(entry, "warnings")


def test_open_onboarding_steps_are_listed_as_manual_steps():
    desired = base_desired(prov=provider(done=False))
    report = run(desired)
    prov = report["provider"]
    assert prov["open_steps"] == 3 and prov["status"] == "warning"
    assert "beställningsstöd" in messages(prov, "warnings")
    assert "provider.yml:5" in fixes(prov, "warnings")
    assert by_id(report, DOC)["status"] == "ready"


def test_workstations_are_matched_to_units_by_host_group():
    ws = {"generated": "x", "hosts": [
        {"host": "pc-norr-01", "groups": ["unit_norr"], "compliant": True, "problems": []},
        {"host": "pc-norr-02", "groups": ["unit_norr"], "compliant": False,
         "problems": ["SCardSvr is stopped"]},
        {"host": "pc-soder-01", "groups": ["unit_soder"], "compliant": False, "problems": []},
    ]}
    norr = unit_of(run(base_desired(), workstations=ws), NORR)
    assert norr["workstations"]["compliant"] == ["pc-norr-01"]
    assert [h["host"] for h in norr["workstations"]["not_compliant"]] == ["pc-norr-02"]
    assert "SCardSvr is stopped" in messages(norr, "warnings")


def test_no_compliant_workstation_warns_the_people_of_the_unit():
    ws = {"hosts": [{"host": "pc-norr-02", "groups": ["unit_norr"], "compliant": False,
                     "problems": ["Net iD 6.2 is too old"]}]}
    doc = by_id(run(base_desired(), workstations=ws), DOC)
    assert doc["status"] == "warning"
    assert "No computer at the care unit" in messages(doc, "warnings")


def test_missing_provider_in_directory_blocks_everyone():
    report = build_readiness(base_desired(), None, TODAY, ALL_OK_CERTS)
    assert report["provider"]["in_directory"] is False
    assert all(p["status"] == "blocked" for p in report["people"])
    assert report["exit"]["failed"] is True


def test_a_group_code_position_without_its_code_names_the_codes_even_without_expected_role():
    desired = base_desired(people=(
        person(AT, "Adam Vikarie", titles=(), positions=("204090",),
               groups=("9300005",)),), commissions=(commission("SE5565594230-C001", (AT,)),))
    at = by_id(run(desired), AT)
    assert at["role"] == "VARDADMINISTRATOR"
    assert "204090" in at["role_reason"] and "9100009 or 9200007" in at["role_reason"]


def test_expired_commission_asks_for_a_new_end_date_not_for_membership():
    desired = base_desired(commissions=(commission("SE5565594230-C001", (DOC, NURSE),
                                                   valid_to=date(2026, 1, 31)),))
    actual = as_directory(desired)
    report = build_readiness(None, actual, TODAY, ALL_OK_CERTS)
    doc = by_id(report, DOC)
    assert "ended on 2026-01-31" in messages(doc)
    assert "new end date" in fixes(doc) and "hsaEndDate" in fixes(doc)
    assert "hsaCommissionMember" not in fixes(doc)


def test_revoked_card_needs_a_new_card():
    revoked = certs((DOC, "error", ["authentication certificate: revoked on 2026-11-24"], []),
                    (NURSE, "error", ["signing certificate: expired 2026-10-01"], []))
    report = run(base_desired(), certificates=revoked)
    assert "blocked (spärrat)" in fixes(by_id(report, DOC))
    assert "minasidor" not in fixes(by_id(report, DOC))
    assert "Order a new SITHS card" in fixes(by_id(report, NURSE))


def test_people_not_expected_to_use_webcert_are_shown_as_such():
    desired = base_desired(people=(
        person(DOC, "Anna Läkare", line=10),
        person(ADMIN, "Bo Kansli", titles=(), uses_webcert=False),
    ), commissions=(commission("SE5565594230-C001", (DOC,)),))
    admin = by_id(run(desired), ADMIN)
    assert admin["status"] == "blocked"  # the facts stay in the data
    assert admin["shown_status"] == "not_expected"
    assert admin["status_label"] == "Not expected to use Webcert"


def test_findings_are_swedish_by_default_in_the_readers_words():
    desired = base_desired(units=(unit(codes=()),))
    with use_language("sv"):
        report = run(desired)
    norr = unit_of(report, NORR)
    text = messages(norr) + fixes(norr)
    assert "saknar arbetsplatskod" in text
    assert "Be er HSA-administratör lägga till arbetsplatskod för Vårdcentralen Norr" in text
    # LDAP names only in the "för IT" part
    assert "unitPrescriptionCode" not in messages(norr)
    assert "unitPrescriptionCode" in norr["problems"][0]["it"]
    assert by_id(report, DOC)["role_label"] == "Läkare"


def test_certificate_findings_bring_their_own_fix_and_it_detail():
    findings = certs((DOC, "error", ["authentication certificate: revoked on 2026-11-24"], []),
                     (NURSE, "ok", [], []))
    findings["people"][0]["findings"] = [
        {"code": "revoked", "severity": "error", "certificate": "auth",
         "message": "authentication certificate: revoked on 2026-11-24",
         "fix": "The person needs a new SITHS card: order one from your SITHS card issuer.",
         "it": "CRL http://crl.example/siths.crl"}]
    doc = by_id(run(base_desired(), certificates=findings), DOC)
    assert doc["status"] == "blocked"
    first = doc["problems"][0]
    assert first["fix"].startswith("The person needs a new SITHS card")
    assert "CRL http://crl.example/siths.crl" in first["it"] and "siths.yml" in first["it"]


def test_the_same_finding_for_both_certificates_of_a_card_is_said_once():
    both = certs((DOC, "warning", [], ["authentication certificate: expires in 12 days",
                                      "signing certificate: expires in 12 days"]),
                 (NURSE, "ok", [], []))
    same = {"code": "expiring", "severity": "warning", "message": "expires in 12 days",
            "fix": "Order a new card.", "it": ""}
    both["people"][0]["findings"] = [dict(same, certificate="auth"),
                                     dict(same, certificate="sign")]
    doc = by_id(run(base_desired(), certificates=both), DOC)
    assert messages(doc, "warnings").count("expires in 12 days") == 1
