"""playbooks/readiness.yml and playbooks/support_bundle.yml against the real sandbox slapd.

The demo description is loaded with playbooks/hsa.yml, then the directory is made to
drift (one unit loses its arbetsplatskod) and a certificate report marks one doctor's
certificate as expired. The readiness report must block exactly the people who cannot
work, fail the run, and pass with readiness_warn_only.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = ROOT / "inventories" / "demo" / "provider"
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
PROVIDER_DN = "o=Demo Vård AB"
BMM_DN = "ou=Demo Barnmorskemottagning," + PROVIDER_DN

P_OK_DOCTOR = "SE5599001236-P001"
P_NURSE = "SE5599001236-P002"
P_EXPIRED = "SE5599001236-P003"
P_LOCUM = "SE5599001236-P004"
P_MIDWIFE = "SE5599001236-P005"
P_NO_COMMISSION = "SE5599001236-P007"
BMM = "SE5599001236-E002"


def playbook(box, tmp: Path, name: str, *extra: str, check: bool = False):
    env = dict(os.environ, **box.env)
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_HOME=str(tmp / "ansible"),
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible" / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    cmd = [str(PLAYBOOK), str(ROOT / "playbooks" / name), "-e", f"hsa_provider_path={DEMO}",
           "-e", f"hsa_report_dir={tmp / 'reports'}", "-e", "readiness_today=2026-11-26", *extra]
    if check:
        cmd.append("--check")
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)


def siths_json(path: Path) -> None:
    def entry(hsa_id, status="ok", problems=()):
        cert = {"serial_number": hsa_id, "issuer": "TEST SITHS e-id Person HSA-id 3 CA v1",
                "not_after": "2028-01-01T00:00:00+00:00", "days_left": 400, "chain_ok": True,
                "revoked": False, "legacy": False}
        return {"hsa_id": hsa_id, "name": "", "uses_webcert": True, "status": status,
                "auth": cert, "sign": cert, "problems": list(problems), "warnings": []}

    ids = [f"SE5599001236-P00{i}" for i in range(1, 8)]
    people = [entry(i) for i in ids if i != P_EXPIRED]
    people.append(entry(P_EXPIRED, "error",
                        ["authentication certificate: expired 2026-10-01"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"generated": "2026-11-26T08:00:00+01:00", "warn_days": 60,
                                "people": people, "unmatched": [], "summary": {}}))


@pytest.fixture(scope="module")
def loaded(hsa_sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readiness-playbook")
    hsa_sandbox.reset()
    r = playbook(hsa_sandbox, tmp, "hsa.yml")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    # drift: the midwives' unit loses its arbetsplatskod in the directory
    hsa_sandbox.ldap_tool("ldapmodify", input=(
        f"dn: {BMM_DN},{hsa_sandbox.base_dn}\nchangetype: modify\n"
        "delete: unitPrescriptionCode\n"))
    siths_json(tmp / "reports" / "siths.json")
    return hsa_sandbox, tmp


def test_blocked_people_fail_the_run_and_the_reports_say_why(loaded):
    box, tmp = loaded
    r = playbook(box, tmp, "readiness.yml")
    assert r.returncode != 0, r.stdout[-3000:]
    assert "Fail when someone expected to use Webcert is blocked" in r.stdout
    assert "HTML-rapport:" in r.stdout  # Swedish by default
    data = json.loads((tmp / "reports" / "readiness.json").read_text())
    status = {p["hsa_id"]: p["status"] for p in data["people"]}
    assert status[P_OK_DOCTOR] == "ready" and status[P_NURSE] == "ready"
    blocked = {i for i, s in status.items() if s == "blocked"}
    assert blocked == {P_EXPIRED, P_LOCUM, P_MIDWIFE, "SE5599001236-P006", P_NO_COMMISSION}
    people = {p["hsa_id"]: p for p in data["people"]}
    assert "expired" in people[P_EXPIRED]["problems"][-1]["message"]
    assert people[P_LOCUM]["role"] == "VARDADMINISTRATOR"
    assert "inget giltigt medarbetaruppdrag" in people[P_NO_COMMISSION]["problems"][0]["message"]
    midwife = " ".join(p["message"] + p["fix"] + p["it"] for p in people[P_MIDWIFE]["problems"])
    assert "arbetsplatskod" in midwife and "stämmer inte" in midwife
    assert "unitPrescriptionCode" not in " ".join(p["message"] for p in people[P_MIDWIFE]["problems"])
    assert people[P_OK_DOCTOR]["rehabstod"] is True
    assert data["provider"]["org_no"] and data["provider"]["open_steps"] == 1
    html = (tmp / "reports" / "readiness.html").read_text()
    assert "Åsa Öberg" in html and 'id="people-table"' in html


def test_warn_only_passes(loaded):
    box, tmp = loaded
    r = playbook(box, tmp, "readiness.yml", "-e", "readiness_warn_only=true")
    assert r.returncode == 0, r.stdout[-3000:]
    assert "blockerade: 5" in r.stdout


def test_check_mode_writes_no_report(loaded, tmp_path):
    box, tmp = loaded
    fresh = tmp_path / "reports"
    r = playbook(box, tmp, "readiness.yml", "-e", f"hsa_report_dir={fresh}",
                 "-e", "readiness_warn_only=true", check=True)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "inga rapportfiler skrevs" in r.stdout
    assert not (fresh / "readiness.html").exists()


def test_support_bundle_for_one_person(loaded):
    box, tmp = loaded
    r = playbook(box, tmp, "support_bundle.yml", "-e", f"support_person={P_EXPIRED}",
                 "-e", "support_unit=SE5599001236-E001",
                 "-e", "support_intyg_id=9f1c2d3e-5b6a-4c1d-8e2f-0a1b2c3d4e5f",
                 "-e", "support_error='Inloggningen misslyckades'",
                 "-e", "support_time='2025-03-04 10:15'")
    assert r.returncode == 0, r.stdout[-3000:]
    archives = list((tmp / "reports" / "support").glob("*.tar.gz"))
    assert [a.name for a in archives] == [
        f"webcert-felanmalan-20250304T101500-{P_EXPIRED}.tar.gz"]
    with tarfile.open(archives[0]) as tf:
        members = {m.name.split("/")[-1]: tf.extractfile(m).read().decode() for m in tf
                   if m.isfile()}
    text, bundle = members["felanmalan.txt"], members["bundle.json"]
    assert "Tidpunkt: 2025-03-04T10:15:00+01:00" in text
    assert "David Lind" in text and "expired 2026-10-01" in text
    everything = text + bundle
    assert box.bind_password not in everything
    assert P_OK_DOCTOR not in everything and "Öberg" not in everything
