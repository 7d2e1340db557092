"""Mass changes: a description that lost half its people is not pruned above the
threshold (the message says how many and how to proceed), and an empty description
deletes nothing."""

from __future__ import annotations

import pytest
from adversarial_support import (
    ORG,
    PROVIDER_ID,
    hsa_entries,
    ldap_args,
    provider_files,
    run_module,
    run_playbook,
    write_tree,
)

PEOPLE = 30


@pytest.fixture
def full(hsa_sandbox, tmp_path):
    hsa_sandbox.reset()
    folder = write_tree(tmp_path / "full", provider_files(people=PEOPLE))
    rc, _, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                              **ldap_args(hsa_sandbox)})
    assert rc == 0 and len(hsa_entries(hsa_sandbox)) == PEOPLE + 2, out[-2000:]
    return hsa_sandbox


def _half(tmp_path):
    files = provider_files(people=PEOPLE // 2)
    return write_tree(tmp_path / "half", files)


def test_losing_half_the_people_is_refused_above_the_threshold(full, tmp_path):
    half = _half(tmp_path)
    before = full.dump()
    r = run_playbook("hsa.yml", "-e", f"hsa_provider_path={half}", "-e", "hsa_prune=true",
                     box=full)
    assert r.returncode != 0, r.stdout[-3000:]
    assert "ta bort 15 poster ur katalogen, fler än max_deletes (10)" in r.stdout, r.stdout[-3000:]
    assert "höj hsa_max_deletes till 15" in r.stdout
    assert full.dump() == before
    # the operator follows the message
    r = run_playbook("hsa.yml", "-e", f"hsa_provider_path={half}", "-e", "hsa_prune=true",
                     "-e", "hsa_max_deletes=15", box=full)
    assert r.returncode == 0, r.stdout[-3000:]
    left = {i for i, _ in hsa_entries(full)}
    assert left == {PROVIDER_ID, f"SE{ORG}-E1", *(f"SE{ORG}-P{n}" for n in range(1, 16))}


def test_without_prune_a_shrunk_description_deletes_nothing(full, tmp_path):
    before = full.dump()
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(_half(tmp_path)),
                                                **ldap_args(full)})
    assert rc == 0 and res["changed"] is False, out[-2000:]
    assert len([u for u in res["unmanaged"] if u["action"] == "kept"]) == 15
    assert full.dump() == before


@pytest.mark.parametrize("shape", ["provider_only", "empty_file", "comment_only", "empty_folder"])
def test_an_empty_description_deletes_nothing(full, tmp_path, shape):
    files = {
        "provider_only": {"provider.yml": provider_files()["provider.yml"]},
        "empty_file": {"provider.yml": ""},
        "comment_only": {"provider.yml": "# everything moved to another folder\n"},
        "empty_folder": {"README.txt": "nothing here\n"},
    }[shape]
    folder = write_tree(tmp_path / "empty", files)
    before = full.dump()
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder), "prune": True,
                                                "max_deletes": 1000, **ldap_args(full)})
    assert rc != 0, out[-2000:]
    if shape == "provider_only":
        assert "inga vårdenheter, personer eller medarbetaruppdrag" in res["msg"]
        assert f"så {PEOPLE + 1} poster skulle tas bort" in res["msg"]
        assert "inget skrevs till katalogen" in res["msg"]
    else:
        assert "ingenting skrevs till HSA" in res["msg"]
    assert full.dump() == before
