"""The drift report: which findings fail the nightly job, and the JUnit XML it writes."""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.drift import (
    build_drift,
    render_junit,
    summary_json,
    xml_text,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def english():
    """The rules are checked on the English text (Swedish is the default)."""
    with use_language("en"):
        yield


def hsa_plan(operations=(), unmanaged=(), errors=()):
    return {"changed": bool(operations), "plan": {
        "base_dn": "c=SE", "operations": list(operations), "unmanaged": list(unmanaged),
        "errors": list(errors), "warnings": [], "foreign_entries": 0}}


MODIFY = {"op": "modify", "kind": "person", "hsa_id": "SE5565594230-P1",
          "dn": "hsaIdentity=SE5565594230-P1,ou=Norr,o=Vårdbolaget,c=SE",
          "changes": [{"attribute": "mail", "before": ["old@example.se"],
                       "after": ["asa@example.se"], "delete": ["old@example.se"],
                       "add": ["asa@example.se"]}]}
ADD = {"op": "add", "kind": "unit", "hsa_id": "SE5565594230-U2", "dn": "ou=Syd,o=V,c=SE",
       "attributes": {"ou": ["Syd"], "hsaIdentity": ["SE5565594230-U2"]}}


def certs(*people):
    return {"people": list(people), "summary": {}}


def cert_person(hsa_id, status="ok", problems=(), warnings=(), uses_webcert=True):
    return {"hsa_id": hsa_id, "name": f"Name {hsa_id[-2:]}", "status": status,
            "uses_webcert": uses_webcert, "problems": list(problems),
            "warnings": list(warnings)}


def readiness(*people):
    return {"people": list(people), "summary": {}}


def ready_person(hsa_id, status="ready", problems=(), uses_webcert=True):
    return {"hsa_id": hsa_id, "name": f"Name {hsa_id[-2:]}", "status": status,
            "uses_webcert": uses_webcert,
            "problems": [{"message": m, "fix": f} for m, f in problems]}


CLEAN = dict(hsa=hsa_plan(), certificates=certs(cert_person("SE5565594230-P1")),
             readiness=readiness(ready_person("SE5565594230-P1")))


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))  # noqa: S314 - our own output, not untrusted


def suites(report):
    return {s["name"]: s for s in report["suites"]}


# --------------------------------------------------------------------------- the verdict


def test_no_drift_and_nobody_blocked_passes():
    report = build_drift(**CLEAN)
    assert report["failed"] is False
    assert report["summary"]["drift"] == 0
    assert all(s["failures"] == 0 and s["errors"] == 0 for s in report["suites"])
    assert suites(report)["hsa-directory"]["cases"][0]["name"] == \
        "HSA matches the description"


def test_each_planned_operation_is_one_failed_case_and_fails_the_job():
    report = build_drift(**dict(CLEAN, hsa=hsa_plan([MODIFY, ADD])))
    hsa = suites(report)["hsa-directory"]
    assert (hsa["tests"], hsa["failures"]) == (2, 2)
    modify = hsa["cases"][0]
    assert modify["name"] == "person SE5565594230-P1"
    assert modify["message"] == "Person SE5565594230-P1 in HSA differs from the description in mail."
    assert "mail: old@example.se -> asa@example.se" in modify["details"]
    assert hsa["cases"][1]["message"].startswith("Care unit SE5565594230-U2 is in the description")
    assert report["failed"] is True
    assert report["summary"]["drift"] == 2
    assert "2 objects in HSA differ" in report["message"]


def test_unmanaged_entries_are_reported_but_are_not_drift():
    report = build_drift(**dict(CLEAN, hsa=hsa_plan(unmanaged=[
        {"dn": "hsaIdentity=X,c=SE", "hsa_id": "SE5565594230-P9", "kind": "person",
         "action": "kept"}])))
    hsa = suites(report)["hsa-directory"]
    assert (hsa["skipped"], hsa["failures"]) == (1, 0)
    assert report["failed"] is False
    assert report["summary"]["unmanaged"] == 1


def test_a_blocked_person_fails_with_the_problem_and_its_fix():
    report = build_drift(**dict(CLEAN, readiness=readiness(
        ready_person("SE5565594230-P1"),
        ready_person("SE5565594230-P2", "blocked",
                     [("no active commission", "add a commission in units/norr.yml")]),
        ready_person("SE5565594230-P3", "blocked", [("x", "y")], uses_webcert=False),
        ready_person("SE5565594230-P4", "warning"))))
    r = suites(report)["webcert-readiness"]
    assert (r["tests"], r["failures"]) == (3, 1)  # P3 does not use Webcert
    failed = next(c for c in r["cases"] if c["status"] == "failure")
    assert failed["message"] == "Name P2 (SE5565594230-P2) cannot use Webcert: no active commission"
    assert "What to do: add a commission in units/norr.yml" in failed["details"]
    assert report["failed"] and report["summary"]["blocked_people"] == 1


def test_expiring_certificates_fail_unless_switched_off():
    expiring = cert_person("SE5565594230-P2", "warning", warnings=["expires in 12 days"])
    inputs = dict(CLEAN, certificates=certs(cert_person("SE5565594230-P1"), expiring))
    on = build_drift(**inputs)
    off = build_drift(**inputs, fail_on_expiring=False)
    assert suites(on)["siths-certificates"]["failures"] == 1
    assert on["failed"] and on["summary"]["expiring_certificates"] == 1
    assert suites(off)["siths-certificates"]["failures"] == 0
    assert not off["failed"] and off["summary"]["expiring_certificates"] == 1
    # still listed in drift.json so somebody orders a new card
    assert [f["name"] for f in summary_json(off)["findings"]] == ["Name P2 (SE5565594230-P2)"]


def test_no_valid_certificate_pair_is_a_blocker():
    report = build_drift(**dict(CLEAN, certificates=certs(cert_person(
        "SE5565594230-P1", "error", problems=["the signing certificate is revoked"]))))
    case = suites(report)["siths-certificates"]["cases"][0]
    assert case["type"] == "certificate"
    assert "the signing certificate is revoked" in case["message"]
    assert report["summary"]["blockers"] == 1 and report["failed"]


@pytest.mark.parametrize("which", ["hsa", "certificates", "readiness"])
def test_a_check_that_did_not_run_is_an_error_not_a_pass(which):
    report = build_drift(**dict(CLEAN, **{which: None}))
    assert report["failed"] is True
    assert report["summary"]["checks_not_run"] == 1
    assert sum(s["errors"] for s in report["suites"]) == 1


def test_a_failed_hsa_check_carries_its_message():
    report = build_drift(**dict(CLEAN, hsa={"failed": True, "msg": "cannot reach ldaps://x"}))
    case = suites(report)["hsa-directory"]["cases"][0]
    assert case["status"] == "error"
    assert case["message"] == "The HSA directory check did not run: cannot reach ldaps://x"


def test_a_refused_plan_is_an_error():
    report = build_drift(**dict(CLEAN, hsa=hsa_plan(errors=["would delete 40 entries"])))
    assert suites(report)["hsa-directory"]["errors"] == 1
    assert report["failed"]


# --------------------------------------------------------------------------- JUnit XML


def test_junit_is_valid_xml_with_counts_per_suite_and_in_total():
    report = build_drift(
        hsa=hsa_plan([MODIFY]),
        certificates=certs(cert_person("SE5565594230-P1"),
                           cert_person("SE5565594230-P2", "warning",
                                       warnings=["expires in 5 days (2026-12-01)"])),
        readiness=None, generated="2026-11-26T02:00:00+01:00")
    root = parse(render_junit(report))
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == \
        {"tests": "4", "failures": "2", "errors": "1", "skipped": "0"}
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == ["hsa-directory", "siths-certificates", "webcert-readiness"]
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors")) == len(suite.findall("testcase/error"))
        assert suite.get("timestamp") == "2026-11-26T02:00:00+01:00"
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("type") == "drift"
    assert "mail: old@example.se -> asa@example.se" in failure.text


def test_junit_escapes_markup_and_drops_characters_xml_cannot_hold():
    nasty = 'Åsa <script>&"Öberg"\x07\x00'
    person = cert_person("SE5565594230-P1", "error", problems=[nasty])
    person["name"] = nasty
    xml = render_junit(build_drift(**dict(CLEAN, certificates=certs(person))))
    assert "<script>" not in xml and "\x00" not in xml and "\x07" not in xml
    root = parse(xml)
    case = root.find("testsuite[@name='siths-certificates']/testcase")
    assert case.get("name").startswith('Åsa <script>&"Öberg"\ufffd\ufffd')
    assert 'Åsa <script>&"Öberg"' in case.find("failure").get("message")


def test_xml_text_keeps_tab_newline_and_non_ascii():
    assert xml_text("a\tb\nc\rÅ\u2603") == "a\tb\nc\rÅ\u2603"
    assert xml_text(None) == ""
    assert xml_text("\x1b[31m") == "\ufffd[31m"


def test_summary_json_is_serialisable_and_lists_only_findings():
    report = build_drift(**dict(CLEAN, hsa=hsa_plan([MODIFY])))
    summary = json.loads(json.dumps(summary_json(report)))
    assert summary["failed"] is True
    assert [f["suite"] for f in summary["findings"]] == ["hsa-directory"]
    assert summary["summary"]["suites"]["siths-certificates"]["tests"] == 1


def test_filter_plugin_exposes_the_filters_and_treats_skipped_as_not_run():
    spec = importlib.util.spec_from_file_location("drift_filter",
                                                  ROOT / "plugins" / "filter" / "drift.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    filters = mod.FilterModule().filters()
    assert set(filters) == {"drift_report", "drift_junit", "drift_summary", "drift_text"}
    report = filters["drift_report"]({"skipped": True}, CLEAN["certificates"],
                                     CLEAN["readiness"])
    assert report["summary"]["checks_not_run"] == 1
    assert filters["drift_junit"](report).startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_only_expiry_counts_as_expire_soon():
    """19 warnings, 1 of them about expiry: the job reports 1 expiring card, not 19."""
    people = [cert_person(f"SE5565594230-P{n:02d}", "warning",
                          warnings=["authentication certificate: issued by a legacy SITHS CA"])
              for n in range(1, 19)]
    people.append(cert_person("SE5565594230-P99", "warning",
                              warnings=["signing certificate: expires in 12 days (2026-12-08)"]))
    report = build_drift(**dict(CLEAN, certificates=certs(*people)))
    assert report["summary"]["expiring_certificates"] == 1
    assert "1 person has a SITHS card that expires soon" in report["message"]
    kinds = {c["type"] for c in suites(report)["siths-certificates"]["cases"]}
    assert kinds == {"expiring", "certificate-warning"}
    # the other warnings are still listed in drift.json, but do not fail the job
    listed = [f for f in summary_json(report)["findings"] if f["type"] == "certificate-warning"]
    assert len(listed) == 18


def test_expiry_is_read_from_the_finding_codes_when_present():
    person = cert_person("SE5565594230-P1", "warning", warnings=["anything"])
    person["findings"] = [{"code": "legacy_ca", "severity": "warning", "message": "legacy"}]
    report = build_drift(**dict(CLEAN, certificates=certs(person)))
    assert report["summary"]["expiring_certificates"] == 0
    person["findings"].append({"code": "expiring", "severity": "warning", "message": "x"})
    report = build_drift(**dict(CLEAN, certificates=certs(person)))
    assert report["summary"]["expiring_certificates"] == 1


def test_drift_messages_are_swedish_by_default():
    with use_language("sv"):
        report = build_drift(**dict(CLEAN, hsa=hsa_plan([MODIFY])))
    assert report["message"].startswith("Avvikelser eller hinder")
    assert "i HSA skiljer sig från beskrivningen" in \
        suites(report)["hsa-directory"]["cases"][0]["message"]


def test_the_printed_summary_names_the_reports_in_the_chosen_language():
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.drift import (
        summary_lines,
    )

    report = build_drift(**CLEAN)
    lines = summary_lines(report, "Plan: nothing to do", "d/drift-junit.xml", "d/drift.json")
    assert lines == [report["message"], "HSA directory: Plan: nothing to do",
                     "Reports: d/drift-junit.xml, d/drift.json"]
    with use_language("sv"):
        assert summary_lines(report, None, "j", "x")[1:] == ["HSA-katalogen: inget resultat",
                                                               "Rapporter: j, x"]
