"""The fault-report bundle: right inputs, only this person's data, no secrets, one archive."""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
import zipfile

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (
    build_readiness,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.support_bundle import (
    archive_bytes,
    archive_name,
    build_bundle,
    bundle_files,
    check_inputs,
    parse_time,
    redact,
    render_text,
)
from readiness_factory import (
    NORR,
    TODAY,
    as_directory,
    certs,
    commission,
    model,
    person,
    unit,
)

DOC = "SE5565594230-P001"
OTHER = "SE5565594230-P002"
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
SECRET = "s3cret-bind-pw"


def readiness():
    desired = model(None, (unit(),), (
        person(DOC, "Anna Läkare"),
        person(OTHER, "Bertil Hemlig", titles=("Sjuksköterska",)),
    ), (commission("SE5565594230-C001", (DOC, OTHER)),))
    findings = certs((DOC, "ok", [], []), (OTHER, "error", ["Bertil's card is revoked"], []))
    return build_readiness(desired, as_directory(desired), TODAY, findings), findings


WORKSTATIONS = {"generated": "x", "hosts": [
    {"host": "pc-norr-01", "groups": ["unit_norr"], "compliant": True,
     "client": "siths_eid_app", "client_version": "2.0.8481",
     "services": {"SCardSvr": {"state": "running", "start_mode": "auto"},
                  "CertPropSvc": {"state": "stopped", "start_mode": "disabled"}},
     "readers": ["OMNIKEY 3x21"], "reboot_required": False, "problems": [],
     "winrm_password": SECRET},
    {"host": "pc-norr-02", "groups": ["unit_norr"], "compliant": False,
     "client": "netid_enterprise", "client_version": "6.2", "problems": ["too old"]},
]}


def inputs(**over):
    args = {"intyg_id": "9f1c2d3e-aaaa-bbbb-cccc-000000000001", "person": DOC, "unit": NORR,
            "error_text": "Signering misslyckades", "time": "2026-11-26T10:15:00",
            "host": "pc-norr-01"}
    args.update(over)
    got, errors = check_inputs(**args, now=NOW)
    assert errors == [], errors
    return got


def make_bundle(**over):
    data, findings = readiness()
    return build_bundle(inputs(**over), data, findings, WORKSTATIONS,
                        "2026-11-26T12:00:00+01:00", secrets=[SECRET])


def test_time_without_offset_gets_the_swedish_time_zone():
    moment, err = parse_time("2026-11-26T10:15", NOW)
    assert err is None and moment.isoformat() == "2026-11-26T10:15:00+01:00"
    summer, _ = parse_time("2026-07-01 08:00", NOW)
    assert summer.isoformat() == "2026-07-01T08:00:00+02:00"


def test_time_defaults_to_now_with_zone_and_accepts_z():
    moment, err = parse_time(None, NOW)
    assert err is None and moment.isoformat() == "2026-11-26T13:00:00+01:00"
    utc, _ = parse_time("2026-11-26T09:00:00Z", NOW)
    assert utc.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(("text", "expected"), [
    ("yesterday", "ISO 8601"), ("2026-12-24T10:00:00+01:00", "framtiden")])
def test_bad_times_are_refused(text, expected):
    moment, err = parse_time(text, NOW)
    assert moment is None and err.path == "time" and expected in err.message


def test_bad_inputs_are_all_reported_at_once():
    got, errors = check_inputs("bad id with spaces", "", "SE123", None, "nope", None, NOW)
    assert got is None
    assert [e.path for e in errors] == ["intyg_id", "person", "unit", "time"]
    assert "måste anges" in str(errors[1])  # Swedish by default


def test_relaxed_ids_for_test_environments():
    _, strict = check_inputs(None, "TSTNMT2321000156-DRAA", NORR, None, None, None, NOW)
    assert strict and strict[0].path == "person"
    got, relaxed = check_inputs(None, "TSTNMT2321000156-DRAA", NORR, None, None, None, NOW,
                                strict_ids=False)
    assert relaxed == [] and got.intyg_id is None


def test_error_text_loses_control_characters():
    got = inputs(error_text="Fel\x00\x1b[31m 500\n")
    assert got.error_text == "Fel[31m 500"


def test_bundle_holds_the_four_facts_inera_asks_for():
    b = make_bundle()
    r = b["report"]
    assert r["intyg_id"].startswith("9f1c2d3e")
    assert (r["person_hsa_id"], r["unit_hsa_id"]) == (DOC, NORR)
    assert r["error_text"] == "Signering misslyckades"
    assert r["time"] == "2026-11-26T10:15:00+01:00"
    assert b["person"]["role"] == "LAKARE" and b["acts_for_unit"] is True
    assert b["certificates"]["status"] == "ok"
    assert b["workstation"]["client_version"] == "2.0.8481"
    assert b["workstation"]["services"]["SCardSvr"]["state"] == "running"


def test_no_other_peoples_data_and_no_secrets():
    b = make_bundle()
    everything = json.dumps(b, ensure_ascii=False) + render_text(b)
    assert OTHER not in everything and "Bertil" not in everything
    assert "pc-norr-02" not in everything
    assert "people_ready" not in b["unit"] and "people_not_ready" not in b["unit"]
    assert SECRET not in everything
    assert b["workstation"].get("winrm_password") is None  # not even copied


def test_redact_removes_secret_keys_and_known_values():
    data = {"bind_password": "x", "nested": [{"api_key": "y", "note": f"pw={SECRET}"}],
            "client_key": "/path/key.pem", "keyboard": "sv"}
    out = redact(data, [SECRET])
    assert out == {"bind_password": "***", "nested": [{"api_key": "***", "note": "pw=***"}],
                   "client_key": "***", "keyboard": "sv"}


def test_paste_text_has_swedish_headings_and_the_facts():
    text = render_text(make_bundle())
    assert text.startswith("Felanmälan Webcert\n")
    for heading in ("Intygs-ID: ", "HSA-id person: ", "HSA-id vårdenhet: ", "Felmeddelande:",
                    "Tidpunkt: 2026-11-26T10:15:00+01:00", "Lokal support har kontrollerat:"):
        assert heading in text
    assert "Anna Läkare" in text and "siths_eid_app 2.0.8481" in text
    assert "SCardSvr running/auto" in text
    assert "Kända problem:\n- inga hittades" in text
    assert "beredskapsrapport" not in text and "Webcert-status:" in text


def test_paste_text_in_english():
    with use_language("en"):
        text = render_text(make_bundle())
    assert text.startswith("Fault report, Webcert\n")
    assert "When it happened: 2026-11-26T10:15:00+01:00" in text
    assert "Known problems:\n- none found" in text


def test_person_without_commission_on_that_unit_is_noted():
    data, findings = readiness()
    other_unit = "SE5565594230-1002"
    b = build_bundle(inputs(unit=other_unit), data, findings, None, "now")
    assert b["unit"] is None and b["acts_for_unit"] is False
    assert any(other_unit in n for n in b["notes"])
    assert any("datorn pc-norr-01" in n for n in b["notes"])  # host asked for, no report


def test_missing_reports_are_said_not_guessed():
    b = build_bundle(inputs(host=None), None, None, None, "now")
    text = render_text(b)
    assert "SITHS-kort: inte kontrollerat" in text
    assert "Ingen Webcert-status" in text


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_archive_holds_text_and_json_and_is_reproducible(fmt):
    b = make_bundle()
    files = bundle_files(b)
    name = archive_name(b, fmt)
    assert name == f"webcert-felanmalan-20261126T101500-{DOC}.{fmt}"
    folder = name[: -len(fmt) - 1]
    when = dt.datetime.fromisoformat(b["report"]["time"])
    one = archive_bytes(files, fmt, when, folder)
    assert one == archive_bytes(files, fmt, when, folder)
    if fmt == "zip":
        with zipfile.ZipFile(io.BytesIO(one)) as zf:
            names = zf.namelist()
            text = zf.read(f"{folder}/felanmalan.txt").decode()
    else:
        with tarfile.open(fileobj=io.BytesIO(one), mode="r:gz") as tf:
            names = tf.getnames()
            text = tf.extractfile(f"{folder}/felanmalan.txt").read().decode()
    assert sorted(names) == [f"{folder}/bundle.json", f"{folder}/felanmalan.txt"]
    assert text == files["felanmalan.txt"]


def test_unknown_archive_format_is_refused():
    with pytest.raises(ValueError, match=r"tar\.gz, zip"):
        archive_bytes({}, "rar", NOW, "x")
