"""The directory client (python-ldap) against the real slapd: reads and windows of writes.

Reads: every page of a paged search, continuation references collected and never
followed, aliases never dereferenced, an empty or missing base, a base that goes away
between pages, a server that goes away mid-read. Writes: windows of adds with a conflict
in the middle, a connection lost after N writes (FaultProxy: by operation count), and
answers that never come ("in flight: may or may not have been applied").
"""

from __future__ import annotations

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
    LdapConfigError,
    LdapConnectError,
    connect,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
    apply_plan,
    apply_summary,
    read_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    desired_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    make_plan,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (
    render_ldif,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
    reconcile,
)
from hsa_builders import model, person, replace, small_model, unit
from ldap_proxy import FaultProxy

PROV_DN = "o=Vårdbolaget Norr AB,c=SE"


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def run(box, m, **kw):
    result = reconcile(m, box.settings(), **kw)
    assert not result["failed"], result.get("msg")
    return result


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("page_size", [1, 3, 500])
def test_every_page_is_read_and_matches_ldapsearch(box, page_size):
    run(box, small_model())
    with box.connect() as conn:
        dns = sorted(dn.lower() for dn, _ in conn.search(box.base_dn, page_size=page_size))
    dump = box.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", box.base_dn,
                         "(objectClass=*)", "1.1").stdout
    expected = sorted(line[4:].lower() for line in dump.splitlines() if line.startswith("dn: "))
    expected += sorted(__import__("base64").b64decode(line[5:]).decode().lower()
                       for line in dump.splitlines() if line.startswith("dn:: "))
    assert dns == sorted(expected) and len(dns) == 9


@pytest.mark.parametrize("how", ["starttls", "ldaps", "client certificate"])
def test_every_way_to_connect_reads_the_same(box, how):
    run(box, small_model())
    overrides = {"starttls": {}, "ldaps": {"uri": box.ldaps_uri},
                 "client certificate": {"bind_dn": None, "bind_password": None,
                                        "client_cert": box.client_cert,
                                        "client_key": box.client_key}}[how]
    with connect(box.settings(**overrides)) as conn:
        assert conn.tls_version()
        entries = read_entries(conn, box.base_dn)
    with box.connect() as conn:
        assert sorted(e.dn for e in entries) == sorted(e.dn for e in read_entries(
            conn, box.base_dn))


def test_a_base_dn_that_is_not_there_reads_as_empty(box):
    with box.connect() as conn:
        assert list(conn.search("o=Finns Inte,c=SE")) == []


def test_the_base_going_away_between_pages_is_an_error_not_a_partial_read(box):
    run(box, small_model())
    with box.connect() as conn:
        pages = conn.search(PROV_DN, page_size=2)
        first = [next(pages), next(pages)]  # the first page
        box.ldap_tool("ldapdelete", "-r", PROV_DN)
        with pytest.raises(LdapConnectError, match=r"försvann medan den lästes|misslyckades"):
            list(pages)
    assert len(first) == 2


def test_a_server_that_goes_away_mid_read_is_a_clear_error(hsa_sandbox_factory):
    box = hsa_sandbox_factory("dead-search")
    run(box, small_model())
    conn = box.connect(timeout=2)
    pages = conn.search(box.base_dn, page_size=2)
    next(pages)
    box.stop()
    with pytest.raises(LdapConnectError, match="Förbindelsen till katalogen bröts") as err:
        list(pages)
    assert box.bind_password not in str(err.value)


def test_continuation_references_are_collected_never_followed(box):
    run(box, small_model())
    box.ldap_tool("ldapadd", input=(
        f"dn: ou=Remote,{PROV_DN}\nobjectClass: referral\nobjectClass: extensibleObject\n"
        "ou: Remote\nref: ldap://hsa.elsewhere.example/ou=Remote,c=SE\n"))
    references: list[str] = []
    with box.connect() as conn:
        dns = [dn for dn, _ in conn.search(box.base_dn, references=references)]
    assert references == ["ldap://hsa.elsewhere.example/ou=Remote,c=SE??sub"]
    assert not any("remote" in dn.lower() for dn in dns)  # nothing from there is made up


def test_a_base_dn_that_is_a_referral_is_refused(box):
    box.ldap_tool("ldapadd", input=(
        "dn: ou=Tenant,c=SE\nobjectClass: referral\nobjectClass: extensibleObject\n"
        "ou: Tenant\nref: ldap://hsa.elsewhere.example/ou=Tenant,c=SE\n"))
    with box.connect() as conn, pytest.raises(LdapConnectError) as err:
        list(conn.search("ou=Tenant,c=SE"))
    assert "referral" in str(err.value) and "hsa.elsewhere.example" in str(err.value)
    assert "hänvisningar följs aldrig" in str(err.value)


def test_an_alias_never_leads_a_read_out_of_the_base_dn(box):
    """An alias below the base DN that points outside it: the read returns the alias entry
    itself (aliases are never dereferenced), never the entry it points to."""
    run(box, small_model())
    box.ldap_tool("ldapadd", input=(
        "dn: o=Annan Vårdgivare,c=SE\nobjectClass: organization\no: Annan Vårdgivare\n"
        "description: outside\n\n"
        f"dn: cn=genväg,{PROV_DN}\nobjectClass: alias\nobjectClass: extensibleObject\n"
        "cn: genväg\naliasedObjectName: o=Annan Vårdgivare,c=SE\n"))
    with box.connect(base_dn=PROV_DN) as conn:
        dns = [dn for dn, _ in conn.search(PROV_DN, attributes=["*"])]
    assert f"cn=genväg,{PROV_DN}" in dns
    assert all(dn.endswith(PROV_DN) for dn in dns), dns


def test_an_empty_password_is_refused_before_any_connection(box):
    with pytest.raises(LdapConfigError, match="unauthenticated bind"):  # the RFC's term
        connect(box.settings(bind_password=""))


# --------------------------------------------------------------------------- windows


def _two_units(a_name, b_name):
    return model(units=[unit("SE5565594230-U1", "Mottagning Norr"),
                        unit("SE5565594230-UA", a_name, parent="SE5565594230-U1"),
                        unit("SE5565594230-UB", b_name, parent="SE5565594230-U1")],
                 people=[person("SE5565594230-P1", unit_id="SE5565594230-UA"),
                         person("SE5565594230-P2", unit_id="SE5565594230-UB")])


def test_swapping_two_sibling_unit_names_applies(box):
    run(box, _two_units("Barn", "Vuxen"))
    swapped = _two_units("Vuxen", "Barn")
    result = run(box, swapped)
    assert result["counts"]["modrdn"] == 3  # one temporary name, then the two renames
    assert result["counts"]["modify"] == 0 and result["counts"]["add"] == 0
    with box.connect() as conn:
        entries = {e.hsa_id: e for e in read_entries(conn, box.base_dn) if e.hsa_id}
    parent = f"ou=Mottagning Norr,{PROV_DN}"
    assert entries["SE5565594230-UA"].dn == f"ou=Vuxen,{parent}"
    assert entries["SE5565594230-UB"].dn == f"ou=Barn,{parent}"
    assert entries["SE5565594230-P1"].dn == f"hsaIdentity=SE5565594230-P1,ou=Vuxen,{parent}"
    assert run(box, swapped)["changed"] is False


def _ten_people():
    return model(units=[unit("SE5565594230-U1", "Mottagning Norr")],
                 people=[person(f"SE5565594230-P{i}", unit_id="SE5565594230-U1")
                         for i in range(1, 11)])


def _exists(box, dn) -> bool:
    r = box.ldap_tool("ldapsearch", "-LLL", "-s", "base", "-b", dn, "(objectClass=*)", "1.1",
                      check=False)
    return r.returncode == 0


def _report_matches_directory(box, plan, result):
    seen = sorted([r.index for r in result.applied] + [r.index for r in result.not_applied]
                  + [r.index for r in result.unknown]
                  + ([result.failed.index] if result.failed else []))
    assert seen == list(range(len(plan.operations)))  # every operation reported once
    for r in result.applied:
        assert _exists(box, r.dn), r
    for r in result.not_applied:  # "not applied" is a promise; "unknown" is not
        assert not _exists(box, r.dn), r


def _people_plan(box, conn):
    run(box, replace(_ten_people(), people=()))
    plan = make_plan(desired_entries(_ten_people(), box.base_dn),
                     read_entries(conn, box.base_dn), box.base_dn)
    assert [o.op for o in plan.operations] == ["add"] * 10
    return plan


def test_a_conflict_inside_a_window_reports_exactly_what_was_applied(box):
    with box.connect() as conn:
        plan = _people_plan(box, conn)
        taken = next(o for o in plan.operations if o.hsa_id == "SE5565594230-P5")
        box.ldap_tool("ldapadd", input=render_ldif(replace(plan, operations=[taken])))
        result, _ = apply_plan(conn, plan)
    assert result.conflict and result.failed.hsa_id == "SE5565594230-P5"
    assert "entryAlreadyExists" in result.failed.message
    assert len(result.applied) == 9  # the other nine were in flight with it, and applied
    _report_matches_directory(box, plan, result)


def _apply_through(box, plan, proxy):
    """Apply ``plan`` through ``proxy`` (plain LDAP), with no reconnect; the result."""

    def no_reconnect():
        raise OSError("the server is gone (test)")

    try:
        settings = box.settings(uri=proxy.uri, start_tls=False, allow_plaintext=True,
                                timeout=2)
        result, _ = apply_plan(connect(settings), plan, reconnect=no_reconnect, retries=1,
                               sleep=lambda s: None)
    finally:
        proxy.close()
    return result


@pytest.mark.parametrize("after", [0, 4, 9])
def test_a_connection_lost_inside_a_window_reports_what_was_applied_then_converges(
        hsa_sandbox_factory, after):
    box = hsa_sandbox_factory(f"window-{after}")
    conn = box.connect()
    plan = _people_plan(box, conn)
    conn.close()
    # cut after `after` writes and their answers
    result = _apply_through(box, plan, FaultProxy(box.port, after=after))
    assert not result.ok and "Förbindelsen till katalogen bröts" in result.failed.message
    assert len(result.applied) == after and result.failed.index == after
    _report_matches_directory(box, plan, result)
    assert "(de kan ha gjorts eller inte: ändring " in apply_summary(
        result, len(plan.operations)) or not result.unknown
    m = _ten_people()
    assert run(box, m)["counts"]["add"] == 10 - after
    assert run(box, m)["changed"] is False


def test_operations_sent_without_an_answer_are_in_flight_not_unapplied(hsa_sandbox_factory):
    """Adds sent in one window whose answers never come may well be in the directory: the
    result must say "may or may not have been applied", never "not applied"."""
    box = hsa_sandbox_factory("deaf")
    conn = box.connect()
    plan = _people_plan(box, conn)
    conn.close()
    # the server gets and applies every request, but no answer reaches the client
    result = _apply_through(box, plan, FaultProxy(box.port, after=0, then="mute"))
    assert not result.ok and result.failed.index == 0
    assert len(result.unknown) == 9 and not result.not_applied
    assert all(_exists(box, r.dn) for r in result.unknown)  # they were applied
    _report_matches_directory(box, plan, result)
    assert "(de kan ha gjorts eller inte: ändring " in apply_summary(result, len(plan.operations))
