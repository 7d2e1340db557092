"""The playbooks run under ansible-runner the way AWX / Automation Platform runs them.

AWX does not call ansible-playbook: it writes a *private data dir* (project/, inventory/,
env/envvars, env/extravars, env/cmdline) and runs ``ansible-runner run <dir> -p <playbook>``,
then reads the job events (artifacts/<ident>/job_events/*.json) and the status. These tests
build such a dir in tmp with this repository as the project, the demo inventory, and the
sandbox directory's HSA_LDAP_* variables as the credential environment, and check the events
and the result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE_PROVIDER = ROOT / "inventories" / "example" / "provider"


@dataclass
class Job:
    rc: int
    status: str
    events: list[dict]
    stdout: str
    artifacts: Path

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == kind]

    def task_results(self, kind: str, task: str) -> list[dict]:
        return [e["event_data"].get("res", {}) for e in self.of(kind)
                if e.get("event_data", {}).get("task") == task]

    @property
    def stats(self) -> dict:
        found = self.of("playbook_on_stats")
        assert len(found) == 1, f"expected one playbook_on_stats event, got {len(found)}"
        return found[0]["event_data"]


def runner_bin() -> str:
    found = BIN / "ansible-runner"
    if found.exists():
        return str(found)
    path = shutil.which("ansible-runner")
    if not path:
        pytest.fail("ansible-runner is missing: pip install -r requirements-dev.txt")
    return path


def make_private_data_dir(base: Path, envvars: dict, extravars: dict, cmdline: str = "") -> Path:
    """An AWX-style private data dir with this repository as the project."""
    pdd = base / "pdd"
    (pdd / "inventory").mkdir(parents=True)
    (pdd / "env").mkdir()
    (pdd / "project").symlink_to(ROOT, target_is_directory=True)
    shutil.copy(ROOT / "inventories" / "local" / "hosts.yml", pdd / "inventory" / "hosts.yml")
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars), encoding="utf-8")
    if cmdline:
        (pdd / "env" / "cmdline").write_text(cmdline, encoding="utf-8")
    return pdd


def run_job(pdd: Path, playbook: str, ident: str = "job") -> Job:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("ANSIBLE_CONFIG", None)  # AWX relies on the project's ansible.cfg in its cwd
    proc = subprocess.run([runner_bin(), "run", str(pdd), "-p", playbook, "--ident", ident],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    artifacts = pdd / "artifacts" / ident
    status_file = artifacts / "status"
    assert status_file.exists(), f"ansible-runner wrote no status:\n{proc.stdout}\n{proc.stderr}"
    events = []
    for path in sorted((artifacts / "job_events").glob("*.json"),
                       key=lambda p: int(p.name.split("-", 1)[0])):
        events.append(json.loads(path.read_text(encoding="utf-8")))
    return Job(int((artifacts / "rc").read_text().strip()), status_file.read_text().strip(),
               events, proc.stdout, artifacts)


def sandbox_env(sandbox) -> dict:
    return dict(sandbox.env)


def extravars(tmp_path: Path, provider: Path = EXAMPLE_PROVIDER) -> dict:
    return {"hsa_provider_path": str(provider), "hsa_report_dir": str(tmp_path / "reports")}


# --------------------------------------------------------------------------- validate.yml


def test_validate_playbook_runs_successfully_under_ansible_runner(tmp_path, hsa_sandbox):
    pdd = make_private_data_dir(tmp_path, sandbox_env(hsa_sandbox), extravars(tmp_path))
    job = run_job(pdd, "playbooks/validate.yml")
    assert (job.status, job.rc) == ("successful", 0), job.stdout
    assert job.of("runner_on_ok"), "no task reported ok"
    assert not job.of("runner_on_failed")
    assert job.stats["failures"] == {}
    assert job.stats["ok"].get("localhost", 0) >= 1


# --------------------------------------------------------------------------- hsa.yml --check


def test_hsa_plan_in_check_mode_under_ansible_runner(tmp_path, hsa_sandbox):
    hsa_sandbox.reset()
    before = hsa_sandbox.dump()
    pdd = make_private_data_dir(tmp_path, sandbox_env(hsa_sandbox), extravars(tmp_path),
                                cmdline="--check --diff")
    job = run_job(pdd, "playbooks/hsa.yml")
    assert (job.status, job.rc) == ("successful", 0), job.stdout
    stats = job.stats
    assert stats["failures"] == {} and stats["ok"]["localhost"] >= 2
    plans = job.task_results("runner_on_ok",
                             "Validate and plan the directory changes (nothing is written yet)")
    assert len(plans) == 1
    plan = plans[0]
    assert plan["counts"]["add"] > 0 and plan["counts"]["delete"] == 0
    assert plan["changed"] is True
    # the bind password from env/envvars must never show up in an event
    password = hsa_sandbox.bind_password
    assert not any(password in json.dumps(e) for e in job.events)
    # check mode: nothing was written
    assert hsa_sandbox.dump() == before


def test_broken_description_fails_the_job_with_the_error_in_the_events(tmp_path, hsa_sandbox):
    hsa_sandbox.reset()
    provider = tmp_path / "provider"
    shutil.copytree(EXAMPLE_PROVIDER, provider)
    text = (provider / "provider.yml").read_text(encoding="utf-8")
    broken = text.replace('org_no: "559912-3451"', 'org_no: "559912-3452"')
    assert broken != text, "the example provider changed; update this test's edit"
    (provider / "provider.yml").write_text(broken, encoding="utf-8")

    pdd = make_private_data_dir(tmp_path, sandbox_env(hsa_sandbox),
                                extravars(tmp_path, provider), cmdline="--check")
    job = run_job(pdd, "playbooks/hsa.yml")
    assert job.status == "failed" and job.rc != 0
    failed = job.of("runner_on_failed")
    assert failed, "no runner_on_failed event"
    assert job.stats["failures"].get("localhost") == 1
    # the finding (file:line, field, value) is in the job events AWX shows and stores
    lines = [line for e in job.events for line in (e.get("stdout") or "").splitlines()
             if "provider.yml:" in line and "559912-3452" in line]
    assert lines, job.stdout[-3000:]
    assert "org_no" in lines[0]
    assert "hsaIdentity" not in hsa_sandbox.dump()  # nothing was written
