"""Verifier of the Molecule ``default`` scenario (pytest-testinfra, local backend).

After converge and idempotence, the sandbox directory that create.yml started must hold
exactly the example provider (inventories/example/provider), checked with our own
``ldapsearch`` queries over StartTLS, and ``hsa_reconcile`` in check mode must find nothing
left to do. Molecule runs this file with ``--connection=local --hosts=local://``
(molecule.yml, ``verifier``); by hand, after ``molecule converge -s default``:

    HSA_SANDBOX_DIR=<the scenario's ephemeral folder>/hsa-sandbox \\
        .venv/bin/pytest -p no:cacheprovider molecule/default/tests
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

# Without Molecule's --hosts option the checks still run on this machine.
testinfra_hosts = ["local://"]

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[3])
SANDBOX = Path(os.environ.get("HSA_SANDBOX_DIR", "/nonexistent-hsa-sandbox"))
PROVIDER = PROJECT / "inventories" / "example" / "provider"
ANSIBLE = Path(sys.executable).with_name("ansible")

# (LDAP filter, entries the example provider must have produced)
EXPECTED = [
    ("(objectClass=hsaHealthCareProvider)", 1),
    ("(&(objectClass=organizationalUnit)(objectClass=hsaHealthCareUnit))", 4),
    ("(&(objectClass=inetOrgPerson)(objectClass=hsaPersonExtension))", 15),
    ("(&(objectClass=hsaCommission)(hsaCommissionPurpose=Vård och behandling))", 4),
    ("(&(hsaIdentity=SE5599123451-P101)(hsaTitle=Läkare)(personalPrescriptionCode=1234567))", 1),
    (
        "(&(objectClass=hsaCommission)(hsaIdentity=SE5599123451-M100)"
        "(hsaCommissionMember=SE5599123451-P101))",
        1,
    ),
    (
        "(&(objectClass=hsaHealthCareUnit)(mail=*)(unitPrescriptionCode=*)"
        "(hsaResponsibleHealthCareProvider=SE5599123451-VG01))",
        4,
    ),
    ("(&(objectClass=hsaHealthCareProvider)(orgNo=559912-3451))", 1),
]


@pytest.fixture(scope="module")
def sandbox(host):
    state = host.file(str(SANDBOX / "sandbox.json"))
    assert state.exists, f"{SANDBOX}/sandbox.json is missing: did create.yml start the sandbox?"
    return json.loads(state.content_string)


def test_sandbox_directory_listens_on_loopback(host, sandbox):
    assert host.socket(f"tcp://127.0.0.1:{sandbox['port']}").is_listening
    password_file = host.file(str(SANDBOX / "bind.pw"))
    assert password_file.exists
    assert password_file.mode & 0o077 == 0, "the bind password file must be readable by its owner only"


@pytest.mark.parametrize(("ldap_filter", "count"), EXPECTED, ids=[f for f, _ in EXPECTED])
def test_directory_holds_the_example_provider(host, sandbox, ldap_filter, count):
    result = host.run(
        "env LDAPTLS_CACERT=%s LDAPTLS_REQCERT=demand ldapsearch -x -ZZ -LLL -o ldif-wrap=no"
        " -H %s -D %s -y %s -b %s %s 1.1",
        sandbox["ca_file"],
        f"ldap://127.0.0.1:{sandbox['port']}",
        sandbox["bind_dn"],
        str(SANDBOX / "bind.pw"),
        sandbox["base_dn"],
        ldap_filter,
    )
    assert result.rc == 0, result.stderr
    found = [line for line in result.stdout.splitlines() if line.startswith("dn:")]
    assert len(found) == count, f"{ldap_filter}: expected {count}, got {len(found)}: {found}"


def test_a_new_plan_has_nothing_left_to_do(host, sandbox, tmp_path):
    # The password goes in a private extra-vars file, never on a command line.
    extra = tmp_path / "sandbox-vars.json"
    extra.write_text(json.dumps({"sandbox": sandbox, "provider": str(PROVIDER)}), encoding="utf-8")
    extra.chmod(0o600)
    args = (
        "provider_path={{ provider }} uri=ldap://127.0.0.1:{{ sandbox.port }}"
        " bind_dn={{ sandbox.bind_dn }} bind_password={{ sandbox.bind_password }}"
        " base_dn={{ sandbox.base_dn }} ca_file={{ sandbox.ca_file }}"
    )
    result = host.run(
        "env ANSIBLE_COLLECTIONS_PATH=%s ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=oneline"
        " ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0"
        " %s localhost -c local --check -e @%s"
        " -m webcert_siths.onboarding.hsa_reconcile -a %s",
        str(PROJECT / ".cache" / "collections"),
        str(ANSIBLE),
        str(extra),
        args,
    )
    assert result.rc == 0, result.stdout + result.stderr
    # The oneline callback: "localhost | SUCCESS => {...}" on one line
    lines = [line for line in result.stdout.splitlines() if line.startswith("localhost |")]
    assert lines, result.stdout
    line = lines[0]
    answer = json.loads(line.split("=>", 1)[1])
    assert answer["changed"] is False, answer
    assert sum(answer["counts"].values()) == 0, answer["counts"]
