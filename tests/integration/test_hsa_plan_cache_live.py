"""The read through hsa_wire and the plan cache, against the real slapd.

* hsa_wire reads exactly what ldap3 reads (any page size, StartTLS, LDAPS, client
  certificate), and the reconciler gives the same plan through either.
* The plan cache never changes a plan: after each change made behind the toolkit's back
  or in the description, the plan with the cache equals the plan without it, and the
  cache only skips the entries it knows.
* The module: the second no-change run takes the description from the cache and compares
  no entry; ``cache: false`` reads everything.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
    search_raw,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    READ_ATTRIBUTES,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_cache import (
    PlanCache,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
    reconcile,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.wire import (
    decode_entry,
    open_wire,
)
from hsa_builders import person, replace, small_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
from adversarial_support import ldap_args, provider_files, run_module, write_tree

PROV_DN = "o=Vårdbolaget Norr AB,c=SE"


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def by_dn(pairs) -> dict:
    return {dn.lower(): {k.lower(): sorted(v) for k, v in attrs.items()} for dn, attrs in pairs}


def wire_read(box, attributes, page_size=500, **overrides):
    with open_wire(box.settings(**overrides)) as wire:
        return [decode_entry(op) for op in wire.search(box.base_dn, attributes, page_size)]


def ldap3_read(box, attributes):
    conn = box.connect()
    try:
        return list(search_raw(conn, box.base_dn, attributes))
    finally:
        conn.unbind()


def test_wire_reads_what_ldap3_reads(box):
    reconcile(small_model(), box.settings())
    for attributes in (READ_ATTRIBUTES, ("*",)):
        expected = by_dn(ldap3_read(box, attributes))
        assert len(expected) == 9  # the base entry, the provider, 2 units, 3 people, 2 comm.
        for page_size in (1, 3, 500):
            assert by_dn(wire_read(box, attributes, page_size)) == expected
    expected = by_dn(ldap3_read(box, READ_ATTRIBUTES))
    assert by_dn(wire_read(box, READ_ATTRIBUTES, uri=box.ldaps_uri)) == expected
    assert by_dn(wire_read(box, READ_ATTRIBUTES, client_cert=box.client_cert,
                           client_key=box.client_key, bind_dn=None,
                           bind_password=None)) == expected


def test_a_base_dn_that_is_not_there_reads_as_empty(box):
    with open_wire(box.settings()) as wire:
        assert wire.search(f"o=Finns Inte,{box.base_dn}", READ_ATTRIBUTES) == []


def test_a_wrong_password_is_refused_without_showing_it(box):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
        LdapConnectError,
    )

    with pytest.raises(LdapConnectError) as err:
        open_wire(box.settings(bind_password="wrong-Secret-123"))
    assert "refused the bind" in str(err.value) and "invalidCredentials" in str(err.value)
    assert "wrong-Secret-123" not in str(err.value)


def test_the_plan_is_the_same_through_wire_and_through_ldap3(box):
    m = small_model()
    reconcile(m, box.settings())
    changed = replace(m, people=(replace(m.people[0], titles=("Överläkare",)), *m.people[1:]))
    via_wire = reconcile(changed, box.settings(), check_mode=True)
    via_ldap3 = reconcile(changed, box.settings(), check_mode=True, connect_fn=_ldap3_connect)
    assert via_wire["plan"] == via_ldap3["plan"] and via_wire["counts"]["modify"] == 1


def _ldap3_connect(settings):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
        connect,
    )

    return connect(settings)


# --------------------------------------------------------------------------- the cache


def plans(box, m, cache, **kw):
    """The plan with the cache and without it (check mode)."""
    with_cache = reconcile(m, box.settings(), check_mode=True, cache=cache, **kw)
    without = reconcile(m, box.settings(), check_mode=True, **kw)
    assert not with_cache["failed"], with_cache.get("msg")
    assert with_cache["plan"] == without["plan"]
    assert with_cache["plan_text"] == without["plan_text"]
    return with_cache


def test_the_cache_never_changes_a_plan(box, tmp_path):
    cache = PlanCache(str(tmp_path / "cache"))
    m = small_model()
    n = 8  # entries the description wants
    reconcile(m, box.settings())

    first = plans(box, m, cache)  # nothing known yet: every entry is compared
    assert first["cache"]["entries_compared"] == 9 and not any(first["counts"].values())
    second = plans(box, m, cache)  # every entry known: nothing compared
    assert second["cache"] == {"description": "miss", "entries_in_sync": n,
                               "entries_compared": 0}

    p1 = f"hsaIdentity=SE5565594230-P1,ou=Mottagning Norr,{PROV_DN}"
    box.ldap_tool("ldapmodify", input=f"dn: {p1}\nchangetype: modify\nreplace: hsaTitle\n"
                                      "hsaTitle: Chefläkare\n")
    behind = plans(box, m, cache)  # changed behind the toolkit's back: found
    assert behind["counts"]["modify"] == 1 and behind["cache"]["entries_compared"] == 2
    assert behind["plan"]["operations"][0]["changes"][0]["before"] == ["Chefläkare"]

    box.ldap_tool("ldapmodify", input=f"dn: {p1}\nchangetype: modify\nreplace: hsaTitle\n"
                                      "hsaTitle: Läkare\n")
    assert not any(plans(box, m, cache)["counts"].values())  # back as it was
    assert plans(box, m, cache)["cache"]["entries_compared"] == 0

    box.ldap_tool("ldapdelete", f"cn=Vård Barn,ou=Barnavård,ou=Mottagning Norr,{PROV_DN}")
    gone = plans(box, m, cache)  # deleted behind its back: added again
    assert gone["counts"]["add"] == 1

    reconcile(m, box.settings())
    box.ldap_tool("ldapadd", input=(
        f"dn: hsaIdentity=SE5565594230-P8,ou=Mottagning Norr,{PROV_DN}\n"
        "objectClass: inetOrgPerson\nobjectClass: hsaPersonExtension\n"
        "hsaIdentity: SE5565594230-P8\ncn: Ny Person\nsn: Person\n\n"
        f"dn: cn=skrivare,{PROV_DN}\nobjectClass: device\ncn: skrivare\n"))
    extra = plans(box, m, cache)  # unmanaged and foreign entries are reported
    assert [u["hsa_id"] for u in extra["unmanaged"]] == ["SE5565594230-P8"]
    assert extra["plan"]["foreign_entries"] == 1
    pruned = plans(box, m, cache, prune=True)
    assert pruned["counts"]["delete"] == 1

    edited = replace(m, people=(*m.people, person("SE5565594230-P9", "Nils", "Ny",
                                                  "SE5565594230-U1")))
    described = plans(box, edited, cache)  # a change in the description
    assert described["counts"]["add"] == 1
    assert described["cache"]["entries_in_sync"] == n  # the rest is still known


def test_apply_with_the_cache_converges_and_reruns_change_nothing(box, tmp_path):
    cache = PlanCache(str(tmp_path / "cache"))
    m = small_model()
    first = reconcile(m, box.settings(), cache=cache)
    assert first["changed"] and first["apply"]["applied"] == 8
    again = reconcile(m, box.settings(), cache=cache)
    assert not again["changed"] and again["cache"]["entries_compared"] == 9
    third = reconcile(m, box.settings(), cache=cache)
    assert not third["changed"] and third["cache"]["entries_compared"] == 0
    changed = replace(m, people=(replace(m.people[1], titles=("Barnmorska",)), *m.people[2:],
                                 m.people[0]))
    applied = reconcile(changed, box.settings(), cache=cache)
    assert applied["apply"]["applied"] == 1
    assert not reconcile(changed, box.settings(), cache=cache)["changed"]


def test_the_module_takes_an_unchanged_description_from_the_cache(box, tmp_path):
    folder = write_tree(tmp_path / "p", provider_files(people=3))
    args = {"provider_path": str(folder), "cache_dir": str(tmp_path / "cache"),
            **ldap_args(box)}
    rc, res, out = run_module("hsa_reconcile", args)
    assert rc == 0 and res["changed"] and res["cache"]["description"] == "miss", out[-2000:]
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and res["cache"]["description"] == "hit", out[-2000:]
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and not res["changed"], out[-2000:]
    assert res["cache"] == {"description": "hit", "entries_in_sync": 5,
                            "entries_compared": 0}
    rc, cold, out = run_module("hsa_reconcile", {**args, "cache": False}, check=True)
    assert rc == 0, out[-2000:]
    same = {k: v for k, v in res.items() if k not in ("cache", "invocation")}
    assert same == {k: v for k, v in cold.items() if k != "invocation"}  # the whole result

    (folder / "units" / "ett.yml").write_text(
        (folder / "units" / "ett.yml").read_text(encoding="utf-8").replace(
            "Mottagning Ett", "Mottagning Två"), encoding="utf-8")
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and res["cache"]["description"] == "miss", out[-2000:]
    assert res["counts"]["modrdn"] == 1

    rc, res, out = run_module("hsa_reconcile", {**args, "cache": False}, check=True)
    assert rc == 0 and "cache" not in res and res["counts"]["modrdn"] == 1, out[-2000:]


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


def test_a_read_for_a_backup_is_never_cached(box, tmp_path):
    """A backup reads every attribute, password hashes of accounts in the tree too: that
    read must not end up in the plan cache."""
    cache_dir = tmp_path / "cache"
    cache = PlanCache(str(cache_dir))
    m = small_model()
    reconcile(m, box.settings())
    box.ldap_tool("ldapadd", input=(
        f"dn: cn=svc,{PROV_DN}\nobjectClass: organizationalRole\n"
        "objectClass: simpleSecurityObject\ncn: svc\nuserPassword: Hemligt-Lösen-42\n"))
    changed = replace(m, people=(replace(m.people[0], titles=("Överläkare",)), *m.people[1:]))
    result = reconcile(changed, box.settings(), cache=cache,
                       backup_file=str(tmp_path / "before.ldif"))
    assert result["apply"]["applied"] == 1
    assert "Hemligt" not in (tmp_path / "before.ldif").read_text(encoding="utf-8")
    for path in cache_dir.glob("*"):
        data = path.read_bytes()
        assert b"Hemligt" not in data and b"userPassword" not in data, path.name
    assert not list(cache_dir.glob("sync-*")) and not list(cache_dir.glob("seen-*"))
    again = reconcile(changed, box.settings(), cache=cache)  # a plain read is kept again
    assert not again["changed"] and list(cache_dir.glob("sync-*"))
    assert b"Hemligt" not in b"".join(p.read_bytes() for p in cache_dir.glob("*"))


def test_export_from_the_steady_state_still_writes_the_files(box, tmp_path):
    folder = write_tree(tmp_path / "p", provider_files(people=2))
    args = {"provider_path": str(folder), "cache_dir": str(tmp_path / "cache"),
            **ldap_args(box)}
    for check in (False, True, True):  # apply, learn the entries, learn the whole read
        assert run_module("hsa_reconcile", args, check=check)[0] == 0
    rc, res, out = run_module("hsa_reconcile", {**args, "export_dir": str(tmp_path / "x")})
    assert rc == 0 and res["cache"]["entries_compared"] == 0, out[-2000:]
    assert not any(res["counts"].values())
    exported = {Path(p).name: Path(p) for p in res["export"].values()}
    assert set(exported) == {"plan.ldif", "change-request.md", "change-request.csv"}
    assert all(p.is_file() for p in exported.values())


def test_an_alias_never_leads_a_read_out_of_the_base_dn(box):
    """An alias below the base DN that points outside it: every reader returns the alias
    entry itself (aliases are never dereferenced), never the entry it points to."""
    reconcile(small_model(), box.settings())
    box.ldap_tool("ldapadd", input=(
        "dn: o=Annan Vårdgivare,c=SE\nobjectClass: organization\no: Annan Vårdgivare\n"
        "description: outside\n\n"
        f"dn: cn=genväg,{PROV_DN}\nobjectClass: alias\nobjectClass: extensibleObject\n"
        "cn: genväg\naliasedObjectName: o=Annan Vårdgivare,c=SE\n"))
    base = PROV_DN
    settings = box.settings(base_dn=base)
    with open_wire(settings) as wire:
        via_wire = [decode_entry(op)[0] for op in wire.search(base, ("*",))]
    conn = box.connect(base_dn=base)
    try:
        via_ldap3 = [dn for dn, _ in search_raw(conn, base, ("*",))]
        from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
            paged_search,
        )

        via_paged = [e["dn"] for e in paged_search(conn, base, "(objectClass=*)", ["*"])]
    finally:
        conn.unbind()
    for dns in (via_wire, via_ldap3, via_paged):
        assert f"cn=genväg,{base}" in dns
        assert all(dn.endswith(base) for dn in dns), dns


def test_an_entry_that_only_matches_is_never_replaced_by_its_twin(box, tmp_path):
    """Values that differ only in case are in sync (no change), but the entry keeps being
    compared: a twin would show the description's spelling in messages and diffs."""
    cache = PlanCache(str(tmp_path / "cache"))
    m = small_model()
    reconcile(m, box.settings())
    p2 = f"hsaIdentity=SE5565594230-P2,ou=Mottagning Norr,{PROV_DN}"
    box.ldap_tool("ldapmodify", input=f"dn: {p2}\nchangetype: modify\nreplace: hsaTitle\n"
                                      "hsaTitle: SJUKSKÖTERSKA\n")
    for _ in range(3):
        result = plans(box, m, cache)
        assert not any(result["counts"].values())
    assert result["cache"]["entries_compared"] == 2  # that person and the base entry
    assert result["cache"]["entries_in_sync"] == 7
