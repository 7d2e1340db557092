"""Reading SITHS certificates from files, host-gathered JSON and directory entries."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.sources import (
    host_cert_records,
    ldap_entry_records,
    load_cert_files,
    load_host_certs,
    read_files,
)
from siths_testpki import TestPki, main

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pair():
    return TestPki(now=NOW).person("SE5565594230-P001", "Anna Andersson")


def test_folder_with_pem_bundle_der_and_junk(tmp_path, pair):
    auth, sign = pair
    (tmp_path / "sub").mkdir()
    (tmp_path / "both.pem").write_bytes(auth.pem() + sign.pem())
    (tmp_path / "sub" / "auth.der").write_bytes(auth.der())
    (tmp_path / "sub" / "broken.cer").write_bytes(auth.der()[:40])
    (tmp_path / "notes.txt").write_text("not read: wrong suffix")
    records, problems = load_cert_files([str(tmp_path)])
    assert problems == []
    sources = sorted(r.source for r in records)
    assert sources == sorted([f"file:{tmp_path}/both.pem#1", f"file:{tmp_path}/both.pem#2",
                              f"file:{tmp_path}/sub/auth.der", f"file:{tmp_path}/sub/broken.cer"])
    assert sum(r.readable for r in records) == 3


def test_missing_path_and_empty_folder_are_problems(tmp_path):
    (tmp_path / "empty").mkdir()
    items, problems = read_files([str(tmp_path / "nope.pem"), str(tmp_path / "empty")])
    assert items == []
    assert [(p.severity, p.message) for p in problems] == [
        ("error", "certificate path does not exist"),
        ("warning", "folder holds no certificate files (.pem, .crt, .cer, .der, .cert)"),
    ]


def test_host_json_with_der_and_pem_and_bad_entries(pair):
    auth, sign = pair
    thumb = hashlib.sha1(auth.der(), usedforsecurity=False).hexdigest().upper()
    doc = {"certificates": [
        {"host": "pc-norr-01", "store": "CurrentUser\\My", "thumbprint": thumb,
         "der_base64": base64.b64encode(auth.der()).decode()},
        {"host": "pc-norr-01", "store": "CurrentUser\\My", "thumbprint": "00" * 20,
         "pem": sign.pem().decode()},
        {"host": "pc-norr-02", "der_base64": "***"},
        {"store": "My", "pem": "x"},
        {"host": "pc-norr-03"},
        "nonsense",
    ]}
    records, problems = host_cert_records(doc, "hosts.json")
    store = "host:pc-norr-01/CurrentUser\\My"
    assert [r.source for r in records] == [store, store, "host:pc-norr-02"]
    assert records[0].readable and records[0].warnings == ()
    assert "does not match the certificate" in records[1].warnings[0]
    assert "hosts.json[2].der_base64 is not valid base64" in records[2].problems[0]
    assert [p.source for p in problems] == ["hosts.json[3].host", "hosts.json[4]", "hosts.json[5]"]


def test_host_json_file_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "hosts.json"
    bad.write_text('[\n{"host": "a",}\n]')
    records, problems = load_host_certs(str(bad))
    assert records == [] and problems[0].source == f"{bad}:2"
    assert "not valid JSON" in problems[0].message
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"hosts": 1}')
    assert "expected a JSON list" in load_host_certs(str(wrong))[1][0].message


def test_ldap_entries_keep_the_owner_and_number_several_values(pair):
    auth, sign = pair
    entries = [
        {"dn": "hsaIdentity=SE5565594230-P001,o=X,c=SE",
         "attributes": {"hsaIdentity": ["SE5565594230-P001"]},
         "raw_attributes": {"userCertificate;binary": [auth.der(), sign.der()]}},
        {"dn": "hsaIdentity=SE5565594230-P009,o=X,c=SE",
         "attributes": {"hsaIdentity": "SE5565594230-P009"},
         "raw_attributes": {"usercertificate;binary": [b"\x30\x01"]}},
        {"dn": "cn=nothing,o=X,c=SE", "attributes": {}, "raw_attributes": {}},
    ]
    records = ldap_entry_records(entries)
    assert [(r.source, r.owner, r.readable) for r in records] == [
        ("ldap:hsaIdentity=SE5565594230-P001,o=X,c=SE#1", "SE5565594230-P001", True),
        ("ldap:hsaIdentity=SE5565594230-P001,o=X,c=SE#2", "SE5565594230-P001", True),
        ("ldap:hsaIdentity=SE5565594230-P009,o=X,c=SE", "SE5565594230-P009", False),
    ]


def test_testpki_cli_writes_a_usable_layout(tmp_path):
    out = tmp_path / "pki"
    assert main(["--out", str(out), "--now", "2026-11-26T10:00:00+00:00", "--people",
                 "SE5565594230-P001", "SE5565594230-P002:revoked:Rut Re",
                 "SE5565594230-P003:missing_sign"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(p["hsa_id"], p["scenario"], len(p["files"])) for p in manifest["people"]] == [
        ("SE5565594230-P001", "valid", 2), ("SE5565594230-P002", "revoked", 2),
        ("SE5565594230-P003", "missing_sign", 1)]
    assert sorted(p.name for p in (out / "trust").iterdir()) == [
        "SITHS_e-id_Function_CA_v1.pem", "SITHS_e-id_Person_HSA-id_2_CA_v1.pem",
        "SITHS_e-id_Person_HSA-id_3_CA_v1.pem", "SITHS_e-id_Root_CA_v2.pem"]
    assert len(list((out / "crl").iterdir())) == 3
    records, _ = load_cert_files([str(out / "certs")])
    assert len(records) == 5 and all(r.readable for r in records)


def test_testpki_cli_rejects_an_unknown_scenario(tmp_path):
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--people", "SE5565594230-P001:bogus"])
