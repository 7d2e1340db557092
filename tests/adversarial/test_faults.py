"""Faults: the server stops, hangs, refers elsewhere, limits or refuses one entry, or
the operator presses Ctrl-C. Waits are bounded, errors name the operation, and a re-run
converges with nothing duplicated or lost.

Each test runs its own slapd (``hsa_sandbox_factory``) so it may stop or freeze it.
Faults in the middle of an apply are triggered by operation count: the client talks to
the server through ``ldap_proxy.FaultProxy``, which lets N writes through (and their
answers back) and then stops the server, freezes it or signals the client.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import hsa_sandbox as sb
import pytest
from adversarial_support import (
    ORG,
    PROVIDER_ID,
    ROOT,
    UNIT_ID,
    hsa_entries,
    ldap_args,
    ldif_add,
    module_result,
    person_yaml,
    playbook_cmd,
    playbook_env,
    provider_files,
    read_apply_report,
    run_module,
    run_playbook,
    start_module,
    what_was_applied,
    write_tree,
)
from ldap_proxy import FaultProxy

PEOPLE = 30


def _model(folder):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
        load_provider,
    )

    loaded = load_provider(folder)
    assert loaded.model is not None, [str(f) for f in loaded.errors]
    return loaded.model


def _converged(box, expected: int) -> None:
    ids = [i for i, _ in hsa_entries(box)]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes and len(ids) == expected, (dupes, len(ids))


@pytest.fixture
def description(tmp_path):
    return write_tree(tmp_path / "provider", provider_files(people=PEOPLE))


def _plain(box, proxy, **overrides):
    """Settings that reach ``box`` through ``proxy`` (plain LDAP: the proxy reads it)."""
    return box.settings(uri=proxy.uri, start_tls=False, allow_plaintext=True, **overrides)


def _plain_args(box, proxy, **overrides):
    return ldap_args(box, uri=proxy.uri, start_tls=False, allow_plaintext=True, **overrides)


@pytest.fixture
def proxied(hsa_sandbox_factory):
    """A private sandbox and a way to put a FaultProxy in front of it."""
    box = hsa_sandbox_factory("faults")
    proxies = []

    def make(**kwargs) -> FaultProxy:
        proxy = FaultProxy(box.port, **kwargs)
        proxies.append(proxy)
        return proxy

    yield box, make
    for proxy in proxies:
        proxy.close()


AFTER = 10  # the provider, the unit and 8 people are written before the fault


def test_server_stopped_mid_apply_then_restarted_converges(proxied, description):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
        reconcile,
    )

    box, make = proxied
    fired = {}
    proxy = make(after=AFTER, action=lambda: (box.stop(), fired.setdefault("at", time.monotonic())))
    model = _model(description)
    first = reconcile(model, _plain(box, proxy, timeout=2), retries=2)
    done = time.monotonic()
    assert proxy.fired.is_set() and first["failed"], first.get("apply")
    assert done - fired["at"] < 30  # bounded: retries with back-off, then a clear stop
    assert "Körningen stoppade vid ändring" in first["msg"] and "Kör igen" in first["msg"]
    apply = first["apply"]
    assert apply["applied"] == AFTER, apply  # every answer that came back is counted
    assert apply["failed"]["index"] == AFTER
    assert "Förbindelsen till katalogen bröts" in apply["failed"]["message"], apply["failed"]
    assert apply["not_applied"] + len(apply["in_flight"]) == PEOPLE + 2 - AFTER - 1, apply
    box.start()
    ids = [i for i, _ in hsa_entries(box)]
    assert len(ids) == len(set(ids)) == AFTER  # the server saw exactly what was answered
    second = reconcile(model, box.settings())
    assert not second["failed"], second.get("msg")
    _converged(box, PEOPLE + 2)
    third = reconcile(model, box.settings())
    assert third["changed"] is False


def test_server_restarted_during_the_retry_window_recovers_in_one_run(proxied, description):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
        reconcile,
    )

    box, make = proxied
    proxy = make(after=AFTER, action=lambda: (box.stop(), box.start()))
    result = reconcile(_model(description), _plain(box, proxy, timeout=2), retries=4)
    assert proxy.fired.is_set() and not result["failed"], result.get("msg")
    assert result["apply"]["retries"] >= 1 and result["apply"]["applied"] == PEOPLE + 2
    _converged(box, PEOPLE + 2)


def test_frozen_server_gives_a_bounded_wait_and_a_clear_error(hsa_sandbox_factory, description):
    box = hsa_sandbox_factory("frozen")
    os.kill(box.info.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        rc, res, out = run_module("hsa_reconcile", {"provider_path": str(description),
                                                    "timeout": 2, **ldap_args(box)})
        waited = time.monotonic() - t0
    finally:
        os.kill(box.info.pid, signal.SIGCONT)
    assert rc != 0 and waited < 15, (waited, out[-2000:])
    assert box.uri in res["msg"] and "Traceback" not in out, res.get("msg")
    assert "Katalogen svarade inte inom 2 sekunder" in res["msg"], res["msg"]
    assert "För IT: " in res["msg"] and "(hsa_ldap_timeout)" in res["msg"], res["msg"]
    _converged(box, 0)


def test_frozen_server_through_the_playbook_honours_hsa_ldap_timeout(
        hsa_sandbox_factory, description):
    box = hsa_sandbox_factory("frozen-playbook")
    os.kill(box.info.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        r = run_playbook("hsa.yml", "-e", f"hsa_provider_path={description}",
                         "-e", "hsa_ldap_timeout=2", box=box, timeout=120)
        waited = time.monotonic() - t0
    finally:
        os.kill(box.info.pid, signal.SIGCONT)
    assert r.returncode != 0 and waited < 30, (waited, r.stdout[-2000:])
    assert "Katalogen svarade inte inom 2 sekunder" in r.stdout, r.stdout[-2000:]
    assert "inget svar inom 2 s (hsa_ldap_timeout)" in r.stdout, r.stdout[-2000:]
    _converged(box, 0)


def _freeze(pid: int) -> None:
    """SIGSTOP, and return once every thread of the process is stopped."""
    os.kill(pid, signal.SIGSTOP)
    tasks = Path(f"/proc/{pid}/task")
    while not all((t / "stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
                  for t in tasks.iterdir()):
        time.sleep(0.001)


def test_server_frozen_mid_apply_stops_in_bounded_time_then_converges(proxied, description):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
        reconcile,
    )

    box, make = proxied
    pid = box.info.pid
    fired = {}
    proxy = make(after=AFTER, then="pass", action=lambda: (
        _freeze(pid), fired.setdefault("at", time.monotonic())))
    try:
        first = reconcile(_model(description), _plain(box, proxy, timeout=1), retries=1)
        done = time.monotonic()
    finally:
        os.kill(pid, signal.SIGCONT)
    assert proxy.fired.is_set() and first["failed"], first.get("apply")
    assert done - fired["at"] < 20, done - fired["at"]
    assert "Körningen stoppade vid ändring" in first["msg"], first["msg"]
    assert first["apply"]["applied"] == AFTER, first["apply"]
    second = reconcile(_model(description), box.settings())
    assert not second["failed"], second.get("msg")
    _converged(box, PEOPLE + 2)


def test_slow_server_is_waited_for_and_the_apply_completes(proxied, tmp_path):
    box, make = proxied
    proxy = make(delay=0.05)  # every request waits on the way: a slow link, no fault
    folder = write_tree(tmp_path / "p", provider_files(people=5))
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder), "timeout": 3,
                                                **_plain_args(box, proxy)})
    assert rc == 0 and res["apply"]["applied"] == 7, out[-2000:]
    _converged(box, 7)


# ------------------------------------------------ referrals, limits, access on one entry

SYNC_DN = "cn=sync,c=SE"
LIMITED_DN = "cn=limited,c=SE"
SYNC_PW = "sync-Secret-1"


@pytest.fixture
def acl_box(hsa_sandbox_factory, monkeypatch):
    """A sandbox with a writer (cn=sync) that may only read person P2, and a reader
    (cn=limited) whose searches stop after 3 entries."""
    original = sb.write_config
    p2 = f"hsaIdentity=SE{ORG}-P2,ou=Mottagning Ett,o=Adv AB,c=SE"

    def write_config(d, password):
        conf = original(d, password)
        text = conf.read_text(encoding="utf-8")
        head, _, tail = text.partition("access to *\n")
        rules = (f'access to dn.exact="{p2}"\n  by dn.exact="{SYNC_DN}" read\n'
                 f'  by dn.exact="{sb.CLIENT_DN}" manage\n  by users read\n\n'
                 f'access to *\n  by dn.exact="{SYNC_DN}" write\n'
                 f'  by dn.exact="{LIMITED_DN}" read\n')
        limits = (f'limits dn.exact="{SYNC_DN}" size=unlimited time=unlimited\n'
                  f'limits dn.exact="{LIMITED_DN}" size=3 size.prtotal=3\n')
        conf.write_text(head + limits + rules + tail.replace("  by dn.exact", "  by dn.exact", 1),
                        encoding="utf-8")
        return conf

    monkeypatch.setattr(sb, "write_config", write_config)
    box = hsa_sandbox_factory("acl")
    users = "".join(
        f"dn: {dn}\nobjectClass: person\nobjectClass: simpleSecurityObject\ncn: {cn}\n"
        f"sn: {cn}\nuserPassword: {SYNC_PW}\n\n"
        for dn, cn in ((SYNC_DN, "sync"), (LIMITED_DN, "limited")))
    ldif_add(box, users)
    return box


def _adv_files(people=3, **kw):
    return provider_files(people=people, name="Adv AB", **kw)


def test_insufficient_access_on_one_entry_is_reported_for_that_operation(acl_box, tmp_path):
    folder = write_tree(tmp_path / "v1", _adv_files())
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                                **ldap_args(acl_box)})  # as the admin
    assert rc == 0, out[-2000:]
    files = _adv_files()
    for n in (1, 2, 3):
        files["units/ett.yml"] = files["units/ett.yml"].replace(f'"Öberg{n}"', f'"Ek{n}"')
    v2 = write_tree(tmp_path / "v2", files)
    before = acl_box.dump()
    args = {"provider_path": str(v2), **ldap_args(acl_box, bind_dn=SYNC_DN,
                                                     bind_password=SYNC_PW)}
    rc, res, out = run_module("hsa_reconcile", args)
    assert rc != 0, out[-2000:]
    failed = res["apply"]["failed"]
    assert failed["hsa_id"] == f"SE{ORG}-P2" and failed["op"] == "modify", failed
    assert "insufficientAccessRights" in failed["message"], failed
    assert f"SE{ORG}-P2" in res["msg"] and "insufficientAccessRights" in res["msg"]
    assert res["apply"]["applied"] == 1 and res["apply"]["not_applied"] == 1
    assert [o["hsa_id"] for o in res["apply"]["not_applied_operations"]] == [f"SE{ORG}-P3"]
    assert acl_box.dump() != before  # P1 was changed, P2 not
    sn = {i: dn for i, dn in hsa_entries(acl_box)}
    kept = base64.b64encode("Öberg2".encode()).decode()  # P2 untouched
    assert f"sn:: {kept}" in acl_box.ldap_tool("ldapsearch", "-LLL", "-b", sn[f"SE{ORG}-P2"],
                                               "-s", "base", "sn").stdout


def test_size_limit_on_the_read_stops_before_planning(acl_box, tmp_path):
    folder = write_tree(tmp_path / "v1", _adv_files())
    rc, _, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                              **ldap_args(acl_box)})
    assert rc == 0, out[-2000:]
    # cn=limited sees at most 3 entries: a plan on a partial read would re-add or prune
    fewer = write_tree(tmp_path / "v2", _adv_files(people=1))
    before = acl_box.dump()
    rc, res, out = run_module("hsa_reconcile", {
        "provider_path": str(fewer), "prune": True,
        **ldap_args(acl_box, bind_dn=LIMITED_DN, bind_password=SYNC_PW)})
    assert rc != 0 and "sizeLimitExceeded" in res["msg"], out[-2000:]
    assert "plan" not in res and acl_box.dump() == before


def test_base_dn_that_is_a_referral_is_refused_and_not_followed(acl_box, tmp_path):
    ldif_add(acl_box, "dn: ou=Tenant,c=SE\nobjectClass: referral\nobjectClass: extensibleObject\n"
                      "ou: Tenant\nref: ldap://hsa.elsewhere.example/ou=Tenant,c=SE\n")
    folder = write_tree(tmp_path / "v1", _adv_files(people=1))
    before = acl_box.dump()
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                                **ldap_args(acl_box, base_dn="ou=Tenant,c=SE")})
    assert rc != 0 and "referral" in res["msg"], out[-2000:]
    assert "hsa.elsewhere.example" in res["msg"] and "Traceback" not in out
    assert acl_box.dump() == before


REMOTE = "ou=Remote,o=Adv AB,c=SE"


def _subordinate_referral(acl_box, tmp_path, *, also_rename=False, check=False, export=None):
    """Apply a description, then make ou=Remote (where the description now wants unit E2
    and person P9) a referral to another server, and run again. With ``also_rename`` the
    description also changes P1's surname, a change outside the referred part."""
    folder = write_tree(tmp_path / "v1", _adv_files(people=1))
    rc, _, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                              **ldap_args(acl_box)})
    assert rc == 0, out[-2000:]
    ldif_add(acl_box, f"dn: {REMOTE}\nobjectClass: referral\nobjectClass: extensibleObject\n"
                      "ou: Remote\nref: ldap://hsa.elsewhere.example/ou=Remote,c=SE\n")
    files = _adv_files(people=1)
    if also_rename:
        files["units/ett.yml"] = files["units/ett.yml"].replace('"Öberg1"', '"Ek1"')
    files["units/remote.yml"] = (
        f"units:\n  - hsa_id: SE{ORG}-E2\n    name: Remote\n    email: r@example.se\n"
        f"    workplace_codes: [\"1234568\"]\npeople:\n"
        f"  - hsa_id: SE{ORG}-P9\n    given_name: Rut\n    surname: Fjärr\n"
        f"    titles: [Läkare]\n    unit: SE{ORG}-E2\n")
    v2 = write_tree(tmp_path / "v2", files)
    before = acl_box.dump()
    args = {"provider_path": str(v2), **ldap_args(acl_box)}
    if export:
        args["export_dir"] = str(export)
    rc, res, out = run_module("hsa_reconcile", args, check=check)
    if not also_rename or check or export:
        assert acl_box.dump() == before
    return REMOTE, rc, res, out


def _refused_ids(res) -> list[str]:
    return sorted(r["hsa_id"] for r in res.get("refused", []))


def test_subordinate_referral_refuses_only_the_operations_below_it(acl_box, tmp_path):
    remote, rc, res, out = _subordinate_referral(acl_box, tmp_path, also_rename=True)
    assert rc != 0 and "Traceback" not in out, out[-2000:]
    # the unit at the referral and the person below it: refused, nothing sent for them
    assert _refused_ids(res) == [f"SE{ORG}-E2", f"SE{ORG}-P9"], res.get("refused")
    assert all(remote in r["message"] and "hsa.elsewhere.example" in r["message"]
               for r in res["refused"]), res["refused"]
    # the rest of the plan (P1's new surname) was applied
    assert res["apply"]["applied"] == 1 and res["apply"]["failed"] is None, res["apply"]
    assert [o["hsa_id"] for o in res["plan"]["operations"]] == [f"SE{ORG}-P1"]
    assert res["referrals"] == [{"dn": remote,
                                 "urls": ["ldap://hsa.elsewhere.example/ou=Remote,c=SE"]}]
    assert any("referral" in w for w in res.get("warnings", [])) or "[WARNING]" in out or \
        "referral" in out, out[-2000:]
    ids = dict(hsa_entries(acl_box))
    assert f"SE{ORG}-E2" not in ids and f"SE{ORG}-P9" not in ids
    sn = acl_box.ldap_tool("ldapsearch", "-LLL", "-b", ids[f"SE{ORG}-P1"], "-s", "base",
                           "sn").stdout
    assert "sn: Ek1" in sn, sn
    # the referral entry itself is untouched (read with ManageDsaIT)
    ref = acl_box.ldap_tool("ldapsearch", "-LLL", "-M", "-b", remote, "-s", "base", "ref")
    assert "ref: ldap://hsa.elsewhere.example/ou=Remote,c=SE" in ref.stdout, ref.stdout


def test_subordinate_referral_is_named_in_the_message(acl_box, tmp_path):
    remote, rc, res, out = _subordinate_referral(acl_box, tmp_path)
    assert rc != 0 and "Traceback" not in out, out[-2000:]
    assert "referral" in res["msg"].lower() and remote in res["msg"], res["msg"]
    assert "hsa.elsewhere.example" in res["msg"] and "2 planerade ändringar stoppades" in res["msg"]
    assert "Någon annan har ändrat posten" not in res["msg"]  # no longer a misleading conflict
    assert "apply" not in res  # nothing else to do, so nothing was sent


def test_subordinate_referral_in_check_mode(acl_box, tmp_path):
    _, rc, res, out = _subordinate_referral(acl_box, tmp_path, also_rename=True, check=True)
    assert rc != 0 and "referral" in res["msg"] and "Inget skrevs till katalogen" in res["msg"], \
        out[-2000:]
    assert _refused_ids(res) == [f"SE{ORG}-E2", f"SE{ORG}-P9"]
    # Swedish by default (the module's language option)
    assert "! stoppad (hänvisning till annan server): lägg till vårdenhet" in res["plan_text"]
    assert "; 2 stoppade (hänvisning till annan server);" in res["summary"], res["summary"]


def test_subordinate_referral_in_export_mode(acl_box, tmp_path):
    export = tmp_path / "export"
    _, rc, res, out = _subordinate_referral(acl_box, tmp_path, also_rename=True, export=export)
    assert rc != 0 and "De övriga ändringarna exporterades." in res["msg"], out[-2000:]
    ldif = (export / "plan.ldif").read_text(encoding="utf-8")
    assert f"SE{ORG}-P1" in ldif and "Remote" not in ldif, ldif
    request = (export / "change-request.md").read_text(encoding="utf-8")
    assert "finns på en annan server (hänvisning)" in request and "ou=Remote" in request, request


# --------------------------------------------------------------- Ctrl-C during an apply


def _wait_for_end_line(report, wait: float = 15) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if report.is_file() and '"event": "end"' in report.read_text(encoding="utf-8"):
            return
        time.sleep(0.2)


def _assert_report_matches(run: list[dict], in_dir: set, box,
                           rest_left: bool = True) -> tuple[set, set, set]:
    start = run[0]
    assert start["base_dn"] == box.base_dn and start["operations"] == len(start["plan"])
    applied, maybe, rest = what_was_applied(run)  # the per-operation lines only
    assert applied and (rest or not rest_left), (len(applied), len(maybe), len(rest))
    assert len(applied) < len(start["plan"])  # stopped in the middle
    assert applied <= in_dir, applied - in_dir  # what it says was applied, was
    assert in_dir <= applied | maybe, in_dir - applied - maybe  # nothing applied unreported
    assert not rest & in_dir, rest & in_dir
    assert len(maybe) <= 64, len(maybe)  # at most one window of adds in flight
    return applied, maybe, rest


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_apply_writes_the_end_line_and_fails_the_module(proxied, description,
                                                                   tmp_path, signum):
    box, make = proxied
    report = tmp_path / "reports" / "hsa-apply.jsonl"
    started = {}
    proxy = make(after=AFTER, then="hold",
                 action=lambda: started["proc"].send_signal(signum))
    proc = start_module("hsa_reconcile", {"provider_path": str(description),
                                          "report_file": str(report), "timeout": 30,
                                          **_plain_args(box, proxy)})
    started["proc"] = proc
    out, err = proc.communicate(timeout=90)
    assert proxy.fired.is_set() and proc.returncode != 0, (
        module_result(out).get("apply"), err[-1500:],
        report.read_text(encoding="utf-8")[-1500:] if report.is_file() else "no report")
    assert "Traceback" not in out + err, err[-2000:]
    res = module_result(out)
    in_dir = {i for i, _ in hsa_entries(box)}  # the held requests never reach the server
    assert len(in_dir) == AFTER
    runs = read_apply_report(report)
    assert len(runs) == 1
    # 30 people fit in one window of adds: all of them may be in flight at once
    # (answers that reached the client after the signal are "may or may not be applied")
    applied, maybe, _ = _assert_report_matches(runs[0], in_dir, box, rest_left=False)
    end = runs[0][-1]
    assert end["event"] == "end" and end["status"] == "interrupted", end
    assert end["message"].startswith(f"Körningen avbröts efter {len(applied)} av {PEOPLE + 2} "
                                     "ändringar"), end["message"]
    assert end["applied"] == len(applied)
    assert end["message"] == res["msg"].split(" Körningsrapporten finns i")[0]
    assert {o["hsa_id"] for o in end["in_flight"]} == maybe
    assert len(end["not_applied_operations"]) == PEOPLE + 2 - len(applied) - len(maybe)
    assert res["failed"] and res["apply"]["interrupted"] and str(report) in res["msg"]
    assert box.bind_password not in report.read_text(encoding="utf-8")
    # the re-run appends its own report and converges
    rc, _, out2 = run_module("hsa_reconcile", {"provider_path": str(description),
                                               "report_file": str(report), **ldap_args(box)})
    assert rc == 0, out2[-2000:]
    _converged(box, PEOPLE + 2)
    runs = read_apply_report(report)
    assert len(runs) == 2 and runs[1][-1]["status"] == "complete", runs[1][-1]
    assert what_was_applied(runs[1])[0] == {f"SE{ORG}-P{n}" for n in range(1, PEOPLE + 1)
                                            if f"SE{ORG}-P{n}" not in in_dir} | (
        {PROVIDER_ID, UNIT_ID} - in_dir)


def test_check_mode_and_export_never_write_the_report(hsa_sandbox_factory, description,
                                                       tmp_path):
    box = hsa_sandbox_factory("noreport")
    report = tmp_path / "r" / "hsa-apply.jsonl"
    args = {"provider_path": str(description), "report_file": str(report), **ldap_args(box)}
    rc, res, out = run_module("hsa_reconcile", args, check=True)
    assert rc == 0 and res["counts"]["add"] == PEOPLE + 2, out[-2000:]
    rc, res, out = run_module("hsa_reconcile", {**args, "export_dir": str(tmp_path / "x")})
    assert rc == 0 and (tmp_path / "x" / "plan.ldif").is_file(), out[-2000:]
    assert not report.exists() and not report.parent.exists()
    rc, res, out = run_module("hsa_reconcile", args)
    assert rc == 0 and res["report_file"] == str(report), out[-2000:]
    run = read_apply_report(report)[0]
    assert what_was_applied(run)[0] == {i for i, _ in hsa_entries(box)}
    assert run[-1]["status"] == "complete" and run[-1]["applied"] == PEOPLE + 2


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """ansible-playbook playbooks/hsa.yml applying 600 people gets SIGINT (Ctrl-C) once 100
    entries are written (FaultProxy holds the 101st write, then sends the signal)."""
    from sandbox_fixtures import Sandbox

    base = tmp_path_factory.mktemp("sigint")
    d = base / "sandbox"
    box = Sandbox(sb.start(d))
    started = {}
    proxy = FaultProxy(box.port, after=100, then="hold",
                       action=lambda: os.killpg(started["proc"].pid, signal.SIGINT))
    files = provider_files(people=0)
    files["units/ett.yml"] += "".join(
        person_yaml(i, extra="    uses_webcert: false\n") for i in range(1, 601))
    folder = write_tree(base / "provider", files)
    reports = base / "reports"
    env = playbook_env(box, HSA_LDAP_URI=proxy.uri)
    log = base / "playbook.log"
    cmd = playbook_cmd("hsa.yml", "-e", f"hsa_provider_path={folder}",
                       "-e", f"hsa_report_dir={reports}", "-e", "hsa_ldap_start_tls=false",
                       "-e", "hsa_ldap_allow_plaintext=true")
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    started["proc"] = proc
    try:
        proc.wait(timeout=180)  # SIGINT to the process group: what Ctrl-C in a terminal does
        # ansible-playbook may exit before the module has written its last line
        _wait_for_end_line(reports / "hsa-apply.jsonl")
        yield {"box": box, "folder": folder, "reports": reports, "rc": proc.returncode,
               "out": log.read_text(encoding="utf-8", errors="replace"),
               "fired": proxy.fired.is_set(), "env": playbook_env(box),
               "ids": {i for i, _ in hsa_entries(box)}}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proxy.close()
        sb.stop(d)


def test_ctrl_c_mid_apply_then_rerun_converges(interrupted):
    box = interrupted["box"]
    assert interrupted["rc"] != 0 and interrupted["fired"], interrupted["out"][-2000:]
    applied = len(interrupted["ids"])
    assert applied == 100, applied  # interrupted in the middle, after exactly 100 writes
    r = subprocess.run(playbook_cmd("hsa.yml", "-e", f"hsa_provider_path={interrupted['folder']}",
                                    "-e", f"hsa_report_dir={interrupted['reports']}"),
                       cwd=ROOT, env=interrupted["env"], capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stdout[-3000:]
    _converged(box, 602)
    # the re-run appended its report: the interrupted run's report is still there
    runs = read_apply_report(interrupted["reports"] / "hsa-apply.jsonl")
    assert len(runs) == 2 and runs[1][-1]["status"] == "complete", runs[1][-1]
    assert runs[1][-1]["applied"] == 602 - applied


def test_ctrl_c_mid_apply_leaves_a_report_of_what_was_applied(interrupted):
    """The report on disk says what was applied, from the per-operation lines alone (the
    end line is not needed: ansible-playbook may kill the module before it is written)."""
    report = interrupted["reports"] / "hsa-apply.jsonl"
    assert report.is_file(), interrupted["out"][-2000:]
    assert interrupted["box"].bind_password not in report.read_text(encoding="utf-8")
    run = read_apply_report(report)[0]
    assert run[0]["operations"] == 602
    applied, maybe, _ = _assert_report_matches(run, interrupted["ids"], interrupted["box"])
    end = [r for r in run if r.get("event") == "end"]
    if end:  # written when the module got the signal in time: it must agree
        assert end[0]["status"] == "interrupted", end[0]
        assert end[0]["message"].startswith(f"Körningen avbröts efter {len(applied)} av 602 "), end
        assert {o["hsa_id"] for o in end[0]["in_flight"]} == maybe
