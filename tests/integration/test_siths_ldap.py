"""Certificates published on sandbox directory entries, verified by playbooks/siths.yml."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from siths_testpki import TestPki

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
ORG = "5565594230"

PROVIDER_YAML = """\
provider:
  hsa_id: SE{org}-1000
  name: Certvården AB
  org_no: "556559-4230"
units:
  - hsa_id: SE{org}-1001
    name: Vårdcentralen Cert
    email: cert@example.se
    workplace_codes: ["1234567"]
people:
{people}
commissions:
  - hsa_id: SE{org}-C001
    name: Vård Cert
    unit: SE{org}-1001
    purpose: Vård och behandling
    rights: ["Läsa;alla;SJF"]
    members: [{members}]
"""

# hsa_id suffix, name, scenario published on the entry (None: no certificate), uses_webcert
PEOPLE = [
    ("P001", "Anna Andersson", "valid", True),
    ("P002", "Bo Berg", "expired", True),
    ("P003", "Cecilia Ceder", "wrong_hsa_id", True),
    ("P004", "David Dahl", "expiring", True),
    ("P005", "Eva Ek", "revoked", True),
    ("P006", "Filip Fors", None, False),
]


def _hsa(suffix: str) -> str:
    return f"SE{ORG}-{suffix}"


@pytest.fixture(scope="module")
def published(hsa_sandbox, tmp_path_factory):
    """Sandbox entries carrying test certificates, plus the files the playbook needs."""
    hsa_sandbox.reset()
    work = tmp_path_factory.mktemp("siths")
    pki = TestPki(now=NOW, organization="Certvården AB")
    provider_dn = f"o=Certvården AB,{hsa_sandbox.base_dn}"
    hsa_sandbox.add(provider_dn, ["organization", "hsaHealthCareProvider"],
                    {"hsaIdentity": _hsa("1000"), "orgNo": ORG})
    stranger = [("P099", "Okänd Främling", "valid", True)]
    for suffix, name, scenario, _ in PEOPLE + stranger:
        attrs = {"hsaIdentity": _hsa(suffix), "cn": name, "sn": name.split()[-1]}
        if scenario:
            certs = pki.person(_hsa(suffix), name, scenario)
            attrs["userCertificate;binary"] = [c.der() for c in certs]
        dn = f"hsaIdentity={_hsa(suffix)},{provider_dn}"
        hsa_sandbox.add(dn, ["inetOrgPerson", "hsaPersonExtension"], attrs)
    people = "\n".join(
        f"  - hsa_id: {_hsa(s)}\n    given_name: {n.split()[0]}\n    surname: {n.split()[1]}\n"
        f"    full_name: {n}\n    unit: SE{ORG}-1001\n    uses_webcert: {str(w).lower()}"
        for s, n, _, w in PEOPLE)
    members = ", ".join(_hsa(s) for s, *_ in PEOPLE)
    (work / "provider.yml").write_text(
        PROVIDER_YAML.format(org=ORG, people=people, members=members), encoding="utf-8")
    (work / "trust.pem").write_bytes(pki.trust_bundle_pem())
    # the issuing CA's CRL and the root's (which covers the issuing CA itself)
    (work / "issuing.crl").write_bytes(b"".join(
        pki.crl(ca).public_bytes(serialization.Encoding.PEM) for ca in (pki.issuing, pki.root)))
    return work


def _playbook(hsa_sandbox, work: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **hsa_sandbox.env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/siths.yml",
           "-e", f"hsa_provider_path={work / 'provider.yml'}",
           "-e", f"siths_trust_bundle={work / 'trust.pem'}",
           "-e", f"siths_crl_files={work / 'issuing.crl'}",
           "-e", f"hsa_report_dir={work / 'reports'}",
           "-e", f"siths_now={NOW.isoformat()}", "-e", "webcert_language=en", *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_playbook_reads_certificates_from_the_directory_and_fails_on_blockers(
        hsa_sandbox, published):
    run = _playbook(hsa_sandbox, published)
    assert run.returncode == 2, run.stdout + run.stderr  # 2 = a task failed
    assert "without a valid pair of SITHS certificates" in run.stdout  # webcert_language=en
    report = json.loads((published / "reports" / "siths.json").read_text())
    by_id = {p["hsa_id"]: p for p in report["people"]}
    assert {k: by_id[_hsa(k)]["status"] for k, *_ in PEOPLE} == {
        "P001": "ok", "P002": "error", "P003": "error", "P004": "warning", "P005": "error",
        "P006": "error"}
    anna = by_id[_hsa("P001")]
    assert anna["auth"]["source"].startswith(f"ldap:hsaIdentity={_hsa('P001')},o=")
    assert anna["auth"]["chain_ok"] and anna["sign"]["usage"] == "sign"
    assert any("expected " + _hsa("P003") in x for x in by_id[_hsa("P003")]["problems"])
    assert by_id[_hsa("P005")]["auth"]["revoked"] is True
    assert by_id[_hsa("P004")]["auth"]["days_left"] == 20
    assert report["summary"]["blocking"] == 3  # P006 does not use Webcert
    assert {u["serial_number"] for u in report["unmatched"]} == {_hsa("P099")}
    # the table an admin reads
    assert "Anna Andersson" in run.stdout and "WARNING" in run.stdout


def test_warn_only_reports_without_failing(hsa_sandbox, published):
    run = _playbook(hsa_sandbox, published, "-e", "siths_warn_only=true")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((published / "reports" / "siths.json").read_text())
    assert report["summary"]["error"] == 4


def test_files_only_without_the_directory(hsa_sandbox, published, tmp_path):
    pki = TestPki(now=NOW)
    (tmp_path / "trust.pem").write_bytes(pki.trust_bundle_pem())
    certs = (tmp_path / "certs")
    certs.mkdir()
    for s, name, _, _ in PEOPLE:
        for c in pki.person(_hsa(s), name):
            (certs / f"{s}-{c.usage}.pem").write_bytes(c.pem())
    (certs / "junk.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n")
    run = _playbook(hsa_sandbox, published, "-e", "siths_read_ldap=false",
                    "-e", f"siths_trust_bundle={tmp_path / 'trust.pem'}",
                    "-e", '{"siths_crl_files": []}',
                    "-e", f"siths_cert_paths={certs}",
                    "-e", f"hsa_report_dir={tmp_path}")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "siths.json").read_text())
    assert report["summary"]["ok"] == 6
    assert report["unmatched"][0]["problems"] == ["PEM block is cut off (no END line)"]


def test_missing_trust_bundle_fails_with_a_clear_message(hsa_sandbox, published, tmp_path):
    run = _playbook(hsa_sandbox, published, "-e", f"siths_trust_bundle={tmp_path / 'none'}",
                    "-e", f"hsa_report_dir={tmp_path}")
    assert run.returncode == 2
    assert "CA certificate path does not exist" in run.stdout
    assert not (tmp_path / "siths.json").exists()  # bad input: nothing written


def test_testpki_publishes_certificates_on_directory_entries(hsa_sandbox, monkeypatch):
    """What `make demo` uses: siths_testpki --publish-ldap replaces userCertificate;binary."""
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.sources import (
        load_ldap_certs,
    )
    from siths_testpki import publish_ldap

    hsa_id = _hsa("P777")
    dn = f"hsaIdentity={hsa_id},{hsa_sandbox.base_dn}"
    hsa_sandbox.delete(dn)
    hsa_sandbox.add(dn, ["inetOrgPerson", "hsaPersonExtension"],
                    {"hsaIdentity": hsa_id, "cn": "Pia Publicerad", "sn": "Publicerad"})
    for key, value in hsa_sandbox.env.items():
        monkeypatch.setenv(key, value)
    pki = TestPki(now=NOW)
    messages = publish_ldap({hsa_id: pki.person(hsa_id, "Pia Publicerad"),
                             _hsa("P778"): pki.person(_hsa("P778"), "Ingen Post")})
    assert messages[0].startswith(f"{hsa_id}: published 2 certificate(s)")
    assert "no directory entry" in messages[1]
    conn = hsa_sandbox.connect()
    try:
        mine = [r for r in load_ldap_certs(conn, hsa_sandbox.base_dn) if r.owner == hsa_id]
    finally:
        conn.unbind()
    assert sorted(r.usage for r in mine) == ["auth", "sign"]
    assert all(r.source.startswith(f"ldap:{dn}#") for r in mine)
