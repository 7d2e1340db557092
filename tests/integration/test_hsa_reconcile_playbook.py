"""playbooks/hsa.yml end to end: real ansible-playbook, real module, real slapd."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "provider"


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def playbook(box, *args, env_extra=None):
    env = {**os.environ, **box.env, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_NOCOLOR": "1",
           **(env_extra or {})}
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(ROOT / "playbooks" / "hsa.yml"),
         *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)


def recap(out: str) -> dict:
    m = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+).*?failed=(\d+)", out)
    assert m, out
    return {"ok": int(m[1]), "changed": int(m[2]), "failed": int(m[3])}


def entries(box) -> int:
    r = box.ldap_tool("ldapsearch", "-LLL", "-b", box.base_dn, "(hsaIdentity=*)", "1.1")
    return r.stdout.count("dn:")


def test_check_diff_then_apply_then_nothing_to_do(box):
    path = f"hsa_provider_path={EXAMPLE}"
    check = playbook(box, "-e", path, "--check", "--diff", "-e", "webcert_language=en")
    assert recap(check.stdout)["failed"] == 0, check.stdout + check.stderr
    assert "+ add person SE5599123451-P101" in check.stdout
    assert "Plan: 24 to add" in check.stdout and entries(box) == 0
    apply = playbook(box, "-e", path)
    assert recap(apply.stdout) | {"ok": 0} == {"ok": 0, "changed": 1, "failed": 0}, apply.stdout
    assert entries(box) == 24
    again = playbook(box, "-e", path)
    assert recap(again.stdout)["changed"] == 0, again.stdout


def test_validation_error_stops_before_any_write(box, tmp_path):
    broken = tmp_path / "provider"
    shutil.copytree(EXAMPLE, broken)
    f = broken / "provider.yml"
    f.write_text(f.read_text(encoding="utf-8").replace("org_no:", "org_nummer:"),
                 encoding="utf-8")
    r = playbook(box, "-e", f"hsa_provider_path={broken}")
    assert r.returncode != 0 and "org_nummer" in r.stdout
    assert entries(box) == 0


def test_export_writes_files_for_the_hsa_agent_and_not_the_directory(box, tmp_path):
    out = tmp_path / "change"
    r = playbook(box, "-e", f"hsa_provider_path={EXAMPLE}", "-e", f"hsa_export_dir={out}",
                 "-e", '{"hsa_change_requester": "Anna Andersson, IT", '
                 '"hsa_change_contact": "it@example.se", "hsa_change_date": "2026-12-24"}')
    assert r.returncode == 0, r.stdout + r.stderr
    assert entries(box) == 0
    md = (out / "change-request.md").read_text(encoding="utf-8")
    head = md.split("##", 1)[0]
    assert "Anna Andersson, IT" in head and "it@example.se" in head and "2026-12-24" in head
    assert "### Registrera ny vårdenhet: " in md and "Sjöviks Vårdcentraler AB" in md, md[:2000]
    assert "Arbetsplatskod" in md and "unitPrescriptionCode" not in md.split("För IT")[0]
    assert (out / "change-request.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (out / "change-request.csv").read_bytes().startswith("\ufeff".encode())
    assert (out / "plan.ldif").read_text(encoding="utf-8").count("changetype: add") == 24


def test_validate_certs_off_warns_and_password_never_shows(box):
    r = playbook(box, "-e", f"hsa_provider_path={EXAMPLE}", "-e", "hsa_ldap_validate_certs=false",
                 "--check", "-v")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "validate_certs is off" in r.stdout + r.stderr
    assert box.bind_password not in r.stdout + r.stderr


def test_wrong_password_fails_cleanly(box):
    r = playbook(box, "-e", f"hsa_provider_path={EXAMPLE}",
                 env_extra={"HSA_LDAP_BIND_PASSWORD": "wrong-password-123"})
    assert r.returncode != 0 and "Katalogen godtog inte inloggningen" in r.stdout
    assert "wrong-password-123" not in r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
