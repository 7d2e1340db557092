"""playbooks/drift.yml on the real sandbox directory: the nightly drift job.

One scenario, in order (each step builds on the last, so they share one test):
a directory that matches the description passes; a hand edit in the directory plus an
expiring certificate fail the job with one JUnit failure each, and the drift job itself
changes nothing; a directory it cannot read is an error, never a pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROVIDER = ROOT / "inventories" / "example" / "provider"
UNIT_DN = "ou=Vårdcentralen Sjövik Norr,o=Sjöviks Vårdcentraler AB,c=SE"
TODAY = "2026-11-26"


def people_ids() -> list[str]:
    import re

    text = "".join(p.read_text(encoding="utf-8") for p in PROVIDER.rglob("*.yml"))
    return sorted(set(re.findall(r"hsa_id: (SE5599123451-P\d+)", text)))


def playbook(name: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    run_env = dict(os.environ, **env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "ansible-playbook"), f"playbooks/{name}", *args],
                          cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=300,
                          check=False)


def drift(env: dict, reports: Path, trust: Path) -> tuple[subprocess.CompletedProcess, ET.Element,
                                                          dict]:
    r = playbook("drift.yml", env, "-e", f"hsa_provider_path={PROVIDER}",
                 "-e", f"siths_trust_bundle={trust}", "-e", f"hsa_report_dir={reports}",
                 "-e", f"drift_today={TODAY}")
    junit = ET.fromstring((reports / "drift" / "drift-junit.xml").read_bytes())  # noqa: S314
    summary = json.loads((reports / "drift" / "drift.json").read_text(encoding="utf-8"))
    return r, junit, summary


def suite(junit: ET.Element, name: str) -> ET.Element:
    found = junit.find(f"testsuite[@name='{name}']")
    assert found is not None, f"no testsuite {name}"
    return found


def test_drift_job_passes_flags_and_never_writes(tmp_path, hsa_sandbox):
    hsa_sandbox.reset()
    env = hsa_sandbox.env
    applied = playbook("hsa.yml", env, "-e", f"hsa_provider_path={PROVIDER}")
    assert applied.returncode == 0, applied.stdout[-3000:]
    pki = tmp_path / "pki"
    ids = people_ids()
    issued = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "siths_testpki.py"), "--out", str(pki),
         "--now", f"{TODAY}T00:00:00+00:00", "--publish-ldap",
         "--people", *ids[1:], f"{ids[0]}:expiring"],
        env=dict(os.environ, **env), capture_output=True, text=True, check=False)
    assert issued.returncode == 0, issued.stderr

    # 1. in line, except one certificate that expires soon: only that fails
    r, junit, summary = drift(env, tmp_path / "r1", pki / "trust")
    assert r.returncode != 0
    assert suite(junit, "hsa-directory").get("failures") == "0"
    certs = suite(junit, "siths-certificates")
    assert certs.get("failures") == "1"
    failure = certs.find("testcase/failure")
    assert failure.get("type") == "expiring" and ids[0] in failure.get("message")
    assert summary["summary"]["expiring_certificates"] == 1
    assert summary["summary"]["drift"] == 0 and summary["summary"]["blockers"] == 0

    # the same with expiring certificates only reported: the job passes
    ok = playbook("drift.yml", env, "-e", f"hsa_provider_path={PROVIDER}",
                  "-e", f"siths_trust_bundle={pki / 'trust'}", "-e",
                  f"hsa_report_dir={tmp_path / 'r2'}", "-e", "drift_fail_on_expiring=false",
                  "-e", f"drift_today={TODAY}")
    assert ok.returncode == 0, ok.stdout[-3000:]
    assert "Inga avvikelser" in ok.stdout  # Swedish by default

    # 2. someone edits the directory by hand: one drifted object, nothing written back
    hsa_sandbox.ldap_tool("ldapmodify", input=f"dn: {UNIT_DN}\nchangetype: modify\n"
                          "replace: mail\nmail: handedited@example.se\n")
    before = hsa_sandbox.dump()
    r, junit, summary = drift(env, tmp_path / "r3", pki / "trust")
    assert r.returncode != 0
    hsa = suite(junit, "hsa-directory")
    assert hsa.get("failures") == "1"
    case = hsa.find("testcase")
    assert case.get("name") == "unit SE5599123451-E100"
    assert "handedited@example.se -> norr@sjovikvard.example.se" in case.find("failure").text
    assert summary["summary"]["drift"] == 1
    assert "1 objekt i HSA skiljer sig från beskrivningen" in summary["message"]
    assert hsa_sandbox.dump() == before  # the drift job is read-only

    # 3. the directory cannot be read: every check is an error, never "no drift"
    r, junit, summary = drift(dict(env, HSA_LDAP_BIND_PASSWORD="Not-The-Pw-7731"), tmp_path / "r4",
                              pki / "trust")
    assert r.returncode != 0
    assert junit.get("errors") == "3"
    assert summary["summary"]["checks_not_run"] == 3
    assert "Not-The-Pw-7731" not in (tmp_path / "r4" / "drift" / "drift.json").read_text()
