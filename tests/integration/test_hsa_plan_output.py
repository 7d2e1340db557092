"""playbooks/hsa.yml prints the plan before it applies, never cuts it silently, and always
writes the whole plan to a file (real ansible-playbook, real slapd)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "provider"


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def playbook(box, tmp_path, *args):
    env = {**os.environ, **box.env, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(ROOT / "playbooks" / "hsa.yml"),
         "-e", f"hsa_provider_path={EXAMPLE}", "-e", f"hsa_report_dir={tmp_path}", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_plan_is_shown_before_the_apply_cut_with_a_pointer_to_the_whole_plan(box, tmp_path):
    r = playbook(box, tmp_path, "-e", "hsa_show_plan_lines=5")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    out = r.stdout
    shown = out.index("TASK [Show the plan before anything is applied")
    applied = out.index("TASK [Apply (or export) the planned directory changes]")
    assert shown < applied
    plan_file = tmp_path / "hsa-plan.txt"
    whole = plan_file.read_text(encoding="utf-8").splitlines()
    assert len(whole) > 5 and "+ lägg till person SE5599123451-P101" in "\n".join(whole)
    printed = out[shown:applied]
    assert f"… och {len(whole) - 5} rader till, se {plan_file}" in printed  # Swedish default
    assert whole[0].strip() in printed and whole[6].strip() not in printed


def test_english_and_the_plan_file_is_written_in_check_mode_too(box, tmp_path):
    r = playbook(box, tmp_path, "--check", "-e", "hsa_show_plan_lines=2",
                 "-e", "webcert_language=en")
    assert r.returncode == 0, r.stdout[-3000:]
    plan_file = tmp_path / "hsa-plan.txt"
    assert plan_file.is_file()
    assert "more lines, see " + str(plan_file) in r.stdout
    found = box.ldap_tool("ldapsearch", "-LLL", "-b", box.base_dn, "(hsaIdentity=*)", "1.1")
    assert found.stdout.count("dn:") == 0  # check mode applied nothing


def test_ombud_mode_plan_is_not_cut_silently_either(tmp_path):
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_NOCOLOR": "1"}
    for name in [k for k in env if k.startswith("HSA_LDAP_")]:
        del env[name]
    r = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(ROOT / "playbooks" / "hsa.yml"),
         "-e", f"hsa_provider_path={EXAMPLE}", "-e", f"hsa_report_dir={tmp_path}",
         "-e", "hsa_baseline=none", "-e", "hsa_show_plan_lines=4"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    plan_file = tmp_path / "hsa-plan.txt"
    whole = plan_file.read_text(encoding="utf-8").splitlines()
    assert len(whole) > 4
    assert f"… och {len(whole) - 4} rader till, se {plan_file}" in r.stdout


def test_a_second_apply_with_nothing_to_change_runs_the_module_once(box, tmp_path):
    first = playbook(box, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    assert "changed=1" in first.stdout
    again = playbook(box, tmp_path)
    assert again.returncode == 0, again.stdout[-3000:]
    recap = again.stdout[again.stdout.index("PLAY RECAP"):]
    assert "changed=0" in recap
    # ansible.cfg hides skipped tasks: the apply task is not shown at all.
    assert "TASK [Apply (or export) the planned directory changes]" in first.stdout
    assert "TASK [Apply (or export) the planned directory changes]" not in again.stdout
    assert "Plan: 0 läggs till, 0 ändras" in again.stdout
