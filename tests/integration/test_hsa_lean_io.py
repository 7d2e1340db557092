"""The reconciler's two directory paths against a real slapd: lean (own BER for search
result entries and write requests) and ldap3's public API (``HSA_LDAP_LEAN=0``).

Both must read the same entries, write the same directory, report the same conflicts and
survive a server that goes away in the middle of an apply. Also: two sibling units that
swap names in one run (planned with a temporary name).
"""

from __future__ import annotations

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory import (
    gateway as hsa_gateway,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
    apply_plan,
    apply_summary,
    read_entries,
    search_raw,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    READ_ATTRIBUTES,
    desired_entries,
    parse_dn,
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

PROV_DN = "o=Vårdbolaget Norr AB,c=SE"
LONG = "Lång text " * 40  # > 255 bytes: long-form BER lengths in both directions


@pytest.fixture(params=["lean", "ldap3"])
def path(request, monkeypatch):
    monkeypatch.setenv("HSA_LDAP_LEAN", "1" if request.param == "lean" else "0")
    return request.param


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def rich_model():
    """Escaped and non-ASCII names, a long value, many values on one attribute."""
    m = small_model()
    odd = unit("SE5565594230-U9", 'Enhet, "A+B" <x>; #1 ', email="odd@example.se",
               codes=tuple(str(1000000 + i) for i in range(40)))
    p9 = person("SE5565594230-P9", "Zoë", "Ångström-Ölund", "SE5565594230-U9",
                titles=("Läkare", LONG))
    return replace(m, units=(*m.units, odd), people=(*m.people, p9))


def run(box, m, **kw):
    result = reconcile(m, box.settings(), **kw)
    assert not result["failed"], result.get("msg")
    return result


def _canon(entries):
    return sorted((e.dn, sorted((k, sorted(v)) for k, v in e.attributes.items() if v))
                  for e in entries)


def test_the_path_in_use_is_the_one_asked_for(box, path):
    conn = box.connect()
    assert hsa_gateway._lean_ok(conn) is (path == "lean")
    conn.search = conn.search  # a hook on the instance: the public API is used
    assert hsa_gateway._lean_ok(conn) is False


def test_load_rerun_and_read_back(box, path):
    m = rich_model()
    first = run(box, m)
    assert first["apply"]["applied"] == first["counts"]["add"] == 10
    assert run(box, m)["changed"] is False
    conn = box.connect()
    entries = read_entries(conn, box.base_dn)
    odd = next(e for e in entries if e.hsa_id == "SE5565594230-U9")
    assert odd.first("ou") == 'Enhet, "A+B" <x>; #1 '
    assert parse_dn(odd.dn)[0] == [("ou", 'Enhet, "A+B" <x>; #1 ')], odd.dn
    assert len(odd.get("unitPrescriptionCode")) == 40
    p9 = next(e for e in entries if e.hsa_id == "SE5565594230-P9")
    assert sorted(p9.get("hsaTitle")) == sorted(["Läkare", LONG])
    assert p9.first("sn") == "Ångström-Ölund"


def test_both_readers_return_the_same_entries(box, monkeypatch):
    run(box, rich_model())
    box.ldap_tool("ldapadd", input=(
        f"dn: cn=printer,{PROV_DN}\nobjectClass: device\ncn: printer\n"
        "description: not an HSA object\n"))
    got = {}
    for mode in ("1", "0"):
        monkeypatch.setenv("HSA_LDAP_LEAN", mode)
        conn = box.connect()
        got[mode] = (_canon(read_entries(conn, box.base_dn)),
                     sorted((dn, sorted((k, sorted(v)) for k, v in a.items() if v))
                            for dn, a in search_raw(conn, box.base_dn, ("*",))))
        # small pages: several round trips with a cookie
        got[mode + "p"] = _canon(hsa_gateway.read_entries(conn, box.base_dn)) == _canon(
            [hsa_gateway.make_entry(dn, a)
             for dn, a in search_raw(conn, box.base_dn, READ_ATTRIBUTES, page_size=3)])
    assert got["1"] == got["0"]
    assert got["1p"] and got["0p"]
    assert len(got["1"][0]) == 12  # base, provider, 3 units, 4 people, 2 commissions, printer


def test_empty_or_missing_base_reads_nothing(box, path):
    conn = box.connect()
    assert list(search_raw(conn, f"ou=nowhere,{box.base_dn}")) == []


def test_modify_rename_and_prune(box, path):
    m = small_model()
    run(box, m)
    u1 = replace(m.units[0], name="Mottagning Nord", email="nord@example.se")
    p1 = replace(m.people[0], titles=("Läkare", "Överläkare"), mail=None)
    m2 = replace(m, units=(u1, m.units[1]), people=(p1, m.people[1]),
                 commissions=(m.commissions[0], replace(m.commissions[1], members=())))
    result = run(box, m2, prune=True)
    assert result["counts"] == {"add": 0, "modify": 3, "modrdn": 1, "delete": 1}
    assert result["apply"]["applied"] == 5
    entries = {e.hsa_id: e for e in read_entries(box.connect(), box.base_dn) if e.hsa_id}
    assert entries["SE5565594230-U1"].dn.startswith("ou=Mottagning Nord,")
    assert entries["SE5565594230-U1"].first("mail") == "nord@example.se"
    assert sorted(entries["SE5565594230-P1"].get("hsaTitle")) == ["Läkare", "Överläkare"]
    assert entries["SE5565594230-P1"].get("mail") == ()
    assert "SE5565594230-P3" not in entries
    assert run(box, m2, prune=True)["changed"] is False


def test_a_value_changed_since_the_read_is_a_conflict(box, path):
    m = small_model()
    run(box, m)
    conn = box.connect()
    m2 = replace(m, people=(replace(m.people[0], surname="Berg", full_name="Åsa Berg"),
                            *m.people[1:]))
    plan = make_plan(desired_entries(m2, box.base_dn), read_entries(conn, box.base_dn),
                     box.base_dn)
    dn = f"hsaIdentity=SE5565594230-P1,ou=Mottagning Norr,{PROV_DN}"
    box.ldap_tool("ldapmodify", input=f"dn: {dn}\nchangetype: modify\nreplace: sn\nsn: Lind\n")
    result, _ = apply_plan(conn, plan)
    assert result.conflict and result.failed.dn == dn
    assert "noSuchAttribute" in result.failed.message


class _StopBeforeSend:
    """Socket stand-in: stops the server before the n-th request is sent."""

    def __init__(self, sock, box, n):
        self._sock, self._box, self._left = sock, box, n

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data, *args):
        self._left -= 1
        if self._left == 0:
            self._box.stop()
        return self._sock.sendall(data, *args)


def test_server_stopped_mid_apply_then_rerun_converges(hsa_sandbox_factory, path):
    box = hsa_sandbox_factory("lean-stop")
    m = small_model()
    conn = box.connect(timeout=2)
    plan = make_plan(desired_entries(m, box.base_dn), read_entries(conn, box.base_dn),
                     box.base_dn)
    conn.socket = _StopBeforeSend(conn.socket, box, 4)
    result, conn = apply_plan(conn, plan, reconnect=lambda: box.connect(timeout=2),
                              retries=1, sleep=lambda s: None)
    assert not result.ok and not result.conflict
    assert len(result.applied) == 3 and result.failed.index == 3
    assert len(result.not_applied) == 4
    assert "connection lost" in result.failed.message
    box.start()
    again = run(box, m)
    assert again["counts"]["add"] == 5
    assert run(box, m)["changed"] is False


# --------------------------------------------------------------------------- swaps


def _two_units(a_name, b_name):
    return model(units=[unit("SE5565594230-U1", "Mottagning Norr"),
                        unit("SE5565594230-UA", a_name, parent="SE5565594230-U1"),
                        unit("SE5565594230-UB", b_name, parent="SE5565594230-U1")],
                 people=[person("SE5565594230-P1", unit_id="SE5565594230-UA"),
                         person("SE5565594230-P2", unit_id="SE5565594230-UB")])


def test_swapping_two_sibling_unit_names_applies(box, path):
    run(box, _two_units("Barn", "Vuxen"))
    swapped = _two_units("Vuxen", "Barn")
    result = run(box, swapped)
    assert result["counts"]["modrdn"] == 3  # one temporary name, then the two renames
    assert result["counts"]["modify"] == 0 and result["counts"]["add"] == 0
    entries = {e.hsa_id: e for e in read_entries(box.connect(), box.base_dn) if e.hsa_id}
    parent = f"ou=Mottagning Norr,{PROV_DN}"
    assert entries["SE5565594230-UA"].dn == f"ou=Vuxen,{parent}"
    assert entries["SE5565594230-UB"].dn == f"ou=Barn,{parent}"
    assert entries["SE5565594230-UA"].get("ou") == ("Vuxen",)
    assert entries["SE5565594230-P1"].dn == f"hsaIdentity=SE5565594230-P1,ou=Vuxen,{parent}"
    assert run(box, swapped)["changed"] is False


# --------------------------------------------------------------------------- windows


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


def test_a_conflict_inside_a_window_reports_exactly_what_was_applied(box, path):
    run(box, replace(_ten_people(), people=()))
    conn = box.connect()
    plan = make_plan(desired_entries(_ten_people(), box.base_dn),
                     read_entries(conn, box.base_dn), box.base_dn)
    assert [o.op for o in plan.operations] == ["add"] * 10
    taken = next(o for o in plan.operations if o.hsa_id == "SE5565594230-P5")
    box.ldap_tool("ldapadd", input=render_ldif(replace(plan, operations=[taken])))
    result, _ = apply_plan(conn, plan)
    assert result.conflict and result.failed.hsa_id == "SE5565594230-P5"
    assert "entryAlreadyExists" in result.failed.message
    # lean: the other nine people were in flight with it and are applied; ldap3: one by one
    assert len(result.applied) == (9 if path == "lean" else 4)
    _report_matches_directory(box, plan, result)


@pytest.mark.parametrize("stop_at", [4, 5, 6])
def test_a_drop_inside_a_window_reports_what_was_applied_then_converges(
        hsa_sandbox_factory, path, stop_at):
    box = hsa_sandbox_factory(f"window-{stop_at}")
    m = small_model()
    conn = box.connect(timeout=2)
    plan = make_plan(desired_entries(m, box.base_dn), read_entries(conn, box.base_dn),
                     box.base_dn)
    conn.socket = _StopBeforeSend(conn.socket, box, stop_at)
    result, _ = apply_plan(conn, plan, reconnect=lambda: box.connect(timeout=2), retries=1,
                           sleep=lambda s: None)
    assert not result.ok and "connection lost" in result.failed.message
    assert len(result.applied) >= 3  # provider and both units went before the stop
    box.start()
    _report_matches_directory(box, plan, result)
    present = sum(_exists(box, o.dn) for o in plan.operations)
    assert run(box, m)["counts"]["add"] == 8 - present
    assert run(box, m)["changed"] is False


class _DeafAfterSend:
    """Socket stand-in: after the n-th request is sent, no answer ever arrives (the server
    still gets and applies what was sent): a connection lost between request and answer."""

    def __init__(self, sock, n):
        self._sock, self._left = sock, n

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data, *args):
        self._left -= 1
        return self._sock.sendall(data, *args)

    def recv(self, *args):
        if self._left <= 0:
            import time

            time.sleep(0.3)  # the server applies what it got
            raise ConnectionResetError("connection reset (test)")
        return self._sock.recv(*args)


def test_operations_sent_when_the_connection_is_lost_are_unknown_not_unapplied(
        box, monkeypatch):
    """Adds sent in one window whose answers never come may well be in the directory: the
    result must say "may or may not have been applied", never "not applied". (Only the
    lean path sends windows of operations.)"""
    monkeypatch.setenv("HSA_LDAP_LEAN", "1")
    run(box, replace(_ten_people(), people=()))
    conn = box.connect()
    plan = make_plan(desired_entries(_ten_people(), box.base_dn),
                     read_entries(conn, box.base_dn), box.base_dn)
    conn.socket = _DeafAfterSend(conn.socket, 10)  # the whole window of ten goes out

    def no_reconnect():
        raise OSError("the server is gone (test)")

    result, _ = apply_plan(conn, plan, reconnect=no_reconnect, retries=1,
                           sleep=lambda s: None)
    assert not result.ok and result.failed.index == 0
    assert len(result.unknown) == 9 and not result.not_applied
    assert all(_exists(box, r.dn) for r in result.unknown)  # they were applied
    _report_matches_directory(box, plan, result)
    assert "may or may not have been applied" in apply_summary(result, len(plan.operations))


def test_a_search_on_a_dead_server_is_a_clear_error(hsa_sandbox_factory, monkeypatch):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
        LdapConnectError,
    )

    monkeypatch.setenv("HSA_LDAP_LEAN", "1")
    box = hsa_sandbox_factory("dead-search")
    conn = box.connect(timeout=2)
    box.stop()
    with pytest.raises(LdapConnectError, match="connection was lost") as err:
        list(search_raw(conn, box.base_dn))
    assert box.bind_password not in str(err.value)


def test_a_garbled_search_answer_is_a_clear_error(box, monkeypatch):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
        LdapConnectError,
    )

    monkeypatch.setenv("HSA_LDAP_LEAN", "1")
    run(box, small_model())
    conn = box.connect()

    def garbled(msg):
        raise ValueError("malformed SearchResultEntry")

    monkeypatch.setattr(hsa_gateway, "decode_search_entry", garbled)
    with pytest.raises(LdapConnectError, match="could not be read"):
        list(search_raw(conn, box.base_dn))
    assert conn.closed
