"""The description cache through the module, against the real slapd.

* The second run takes the description from the cache and gives the same result as a
  run without the cache; a changed file is read again.
* The directory is never cached: a change made behind the toolkit's back is found by the
  next plan, description cache or not.
* The cache only ever holds the description: no directory data, no passwords.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
from adversarial_support import (
    ORG,
    hsa_entries,
    ldap_args,
    provider_files,
    run_module,
    write_tree,
)


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def _args(box, folder, tmp_path, **more):
    return {"provider_path": str(folder), "cache_dir": str(tmp_path / "cache"),
            **ldap_args(box), **more}


def test_the_module_takes_an_unchanged_description_from_the_cache(box, tmp_path):
    folder = write_tree(tmp_path / "p", provider_files(people=3))
    args = _args(box, folder, tmp_path)
    rc, res, out = run_module("hsa_reconcile", args)
    assert rc == 0 and res["changed"] and res["cache"]["description"] == "miss", out[-2000:]
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and not res["changed"] and res["cache"] == {"description": "hit"}, out[-2000:]
    rc, cold, out = run_module("hsa_reconcile", {**args, "cache": False}, check=True)
    assert rc == 0 and "cache" not in cold, out[-2000:]
    same = {k: v for k, v in res.items() if k not in ("cache", "invocation")}
    assert same == {k: v for k, v in cold.items() if k != "invocation"}  # the whole result

    (folder / "units" / "ett.yml").write_text(
        (folder / "units" / "ett.yml").read_text(encoding="utf-8").replace(
            "Mottagning Ett", "Mottagning Två"), encoding="utf-8")
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and res["cache"]["description"] == "miss", out[-2000:]
    assert res["counts"]["modrdn"] == 1


def test_a_change_behind_the_toolkits_back_is_found_with_the_cache(box, tmp_path):
    folder = write_tree(tmp_path / "p", provider_files(people=3))
    args = _args(box, folder, tmp_path)
    assert run_module("hsa_reconcile", args)[0] == 0
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and res["cache"]["description"] == "hit" and not res["changed"], out[-2000:]
    dn = dict(hsa_entries(box))[f"SE{ORG}-P2"]
    box.ldap_tool("ldapmodify", input=f"dn: {dn}\nchangetype: modify\nreplace: hsaTitle\n"
                                      "hsaTitle: Chefläkare\n")
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and res["cache"]["description"] == "hit", out[-2000:]
    assert res["counts"]["modify"] == 1
    assert res["plan"]["operations"][0]["changes"][0]["before"] == ["Chefläkare"]
    box.ldap_tool("ldapdelete", dn)
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and res["counts"]["add"] == 1, out[-2000:]


def test_the_cache_holds_the_description_only(box, tmp_path):
    folder = write_tree(tmp_path / "p", provider_files(people=2))
    assert run_module("hsa_reconcile", _args(box, folder, tmp_path))[0] == 0
    box.ldap_tool("ldapadd", input=(
        f"dn: cn=svc,{dict(hsa_entries(box))[f'SE{ORG}-VG1']}\n"
        "objectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: svc\n"
        "userPassword: Hemligt-Lösen-42\n"))
    files = provider_files(people=3)
    folder = write_tree(tmp_path / "p", files)
    rc, res, out = run_module("hsa_reconcile", _args(box, folder, tmp_path, backup_file=str(
        tmp_path / "before.ldif")))
    assert rc == 0 and res["apply"]["applied"] == 1, out[-2000:]
    assert "Hemligt" not in (tmp_path / "before.ldif").read_text(encoding="utf-8")
    cached = list((tmp_path / "cache").iterdir())
    assert cached and all(p.name.startswith("desc-") for p in cached), cached
    assert b"Hemligt" not in b"".join(p.read_bytes() for p in cached)


def test_a_cache_folder_others_can_write_is_not_used_and_says_so(box, tmp_path):
    folder = write_tree(tmp_path / "p", provider_files(people=1))
    cache_dir = tmp_path / "shared"
    cache_dir.mkdir(mode=0o777)
    cache_dir.chmod(0o777)
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                                "cache_dir": str(cache_dir), **ldap_args(box)})
    assert rc == 0 and res["changed"], out[-2000:]
    assert "writable by another user" in str(res.get("warnings")), res
    assert list(cache_dir.iterdir()) == []
