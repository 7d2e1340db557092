"""Every Windows role documents its defaults in meta/argument_specs.yml, and the specs bite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("smartcard", "netid", "siths_eid_app", "webcert_browser", "siths_trust", "workstation_common")
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


def load(role: str, rel: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / rel).read_text(encoding="utf-8")) or {}


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_spec_name_the_same_variables(role):
    defaults = set(load(role, "defaults/main.yml"))
    # Every entry point (main, and tasks_from entry points such as workstation_common's install).
    options = {
        name
        for entry in load(role, "meta/argument_specs.yml")["argument_specs"].values()
        for name in entry["options"]
    }
    assert defaults - options == set(), "defaults missing from argument_specs"
    assert options - defaults == set(), "argument_specs options without a default"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_prefixed_and_commented(role):
    lines = (
        (ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8").splitlines()
    )
    for i, line in enumerate(lines):
        if line and not line.startswith((" ", "#", "-")) and ":" in line:
            name = line.split(":", 1)[0]
            assert name.startswith(role + "_"), name
            assert lines[i - 1].startswith("# "), f"{name} has no comment line above it"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_has_a_type_and_description(role):
    for entry in load(role, "meta/argument_specs.yml")["argument_specs"].values():
        for name, spec in entry["options"].items():
            assert spec.get("type"), name
            assert spec.get("description"), name


CASES = [
    ("smartcard", {"smartcard_lock_on_removal": "sometimes"}, True),
    ("smartcard", {"smartcard_certprop": "maybe"}, True),
    (
        "smartcard",
        {"smartcard_reader_drivers": [{"name": "x", "type": "exe", "path": "p", "sha256": "s"}]},
        True,
    ),
    ("smartcard", {"smartcard_lock_on_removal": True, "smartcard_certprop": "disabled"}, False),
    ("netid", {"netid_gather_facts": "perhaps"}, True),
    ("netid", {"netid_product": "enterprise", "netid_allowed_servers_enabled": False}, False),
    ("siths_eid_app", {"siths_eid_app_package_type": "mega"}, True),
    (
        "siths_eid_app",
        {"siths_eid_app_installer": {"path": "x", "expected_return_codes": ["zero"]}},
        True,
    ),
    ("siths_eid_app", {"siths_eid_app_package_type": "md"}, False),
    ("webcert_browser", {"webcert_browser_browsers": ["firefox"]}, True),
    ("webcert_browser", {"webcert_browser_ie_mode_level": 7}, True),
    (
        "webcert_browser",
        {"webcert_browser_browsers": ["edge"], "webcert_browser_ie_mode_level": 2},
        False,
    ),
    ("siths_trust", {"siths_trust_remove_legacy": "perhaps"}, True),
    # A single path is accepted and becomes a one-element list.
    ("siths_trust", {"siths_trust_root_certificates": "root.pem"}, False),
]

TASK = """
    - name: Case {i}
      ansible.builtin.validate_argument_spec:
        argument_spec: >-
          {{{{ (lookup('ansible.builtin.file', '{spec}')
               | from_yaml).argument_specs.main.options }}}}
        provided_arguments: {args}
      register: case_{i}
      ignore_errors: true
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Run every case in one ansible-playbook process (real validate_argument_spec)."""
    tmp = tmp_path_factory.mktemp("specs")
    tasks = "".join(
        TASK.format(
            i=i,
            spec=ROOT / "roles" / role / "meta" / "argument_specs.yml",
            args=yaml.safe_dump(args, default_flow_style=True).strip(),
        )
        for i, (role, args, _) in enumerate(CASES)
    )
    results = ", ".join(f"case_{i}" for i in range(len(CASES)))
    play = tmp / "play.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        + tasks
        + f"""
    - name: Save outcomes
      ansible.builtin.copy:
        content: "{{{{ [{results}] | to_json }}}}"
        dest: {tmp}/outcomes.json
        mode: "0600"
"""
    )
    result = subprocess.run(
        [
            PLAYBOOK,
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(play),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((tmp / "outcomes.json").read_text())


@pytest.mark.parametrize(
    ("index", "case"), list(enumerate(CASES)), ids=[c[0] + "-" + next(iter(c[1])) for c in CASES]
)
def test_argument_spec_rejects_wrong_types(outcomes, index, case):
    _, args, should_fail = case
    outcome = outcomes[index]
    assert bool(outcome.get("failed")) == should_fail, outcome
    if should_fail:
        assert next(iter(args)) in json.dumps(outcome)
