"""Faults: the server stops, hangs, refers elsewhere, limits or refuses one entry, or
the operator presses Ctrl-C. Waits are bounded, errors name the operation, and a re-run
converges with nothing duplicated or lost.

Each test runs its own slapd (``hsa_sandbox_factory``) so it may stop or freeze it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import hsa_sandbox as sb
import pytest
from adversarial_support import (
    ORG,
    ROOT,
    hsa_entries,
    ldap_args,
    ldif_add,
    person_yaml,
    playbook_cmd,
    playbook_env,
    provider_files,
    run_module,
    run_playbook,
    write_tree,
)

PEOPLE = 30


def _model(folder):
    from ansible.module_utils.hsa_model import load_provider

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


def _when_entries(box, at_least: int, fault) -> dict:
    """Run ``fault()`` once the directory holds ``at_least`` HSA entries (a watcher thread
    that reads the server directly, not through the slow link the apply uses)."""
    state = {"fired": False, "at": None, "count": 0}

    def watch():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state["count"] = len(hsa_entries(box))
            if state["count"] >= at_least:
                state["at"] = time.monotonic()
                state["fired"] = True
                fault()
                return
            time.sleep(0.03)

    state["thread"] = threading.Thread(target=watch, daemon=True)
    state["thread"].start()
    return state


@pytest.fixture
def slow_box(hsa_sandbox_factory):
    """A private sandbox behind a link that lets the client send 4 kB/s (an apply of
    32 entries takes a few seconds, so faults land in the middle of it)."""
    box = hsa_sandbox_factory("slowlink")
    proxy = _SlowProxy(box.port, rate=4000)
    yield box, f"ldap://127.0.0.1:{proxy.port}"
    proxy.close()


def test_server_stopped_mid_apply_then_restarted_converges(slow_box, description):
    from ansible.module_utils.hsa_gateway import reconcile

    box, uri = slow_box
    model = _model(description)
    state = _when_entries(box, 10, box.stop)
    first = reconcile(model, box.settings(uri=uri, timeout=2), retries=2)
    done = time.monotonic()
    assert state["fired"] and first["failed"], (state, first.get("apply"))
    assert done - state["at"] < 30  # bounded: retries with back-off, then a clear stop
    assert "apply stopped at operation" in first["msg"] and "run again" in first["msg"]
    applied = first["apply"]["applied"]
    assert 0 < applied < PEOPLE + 2 and first["apply"]["not_applied"] > 0, first["apply"]
    box.start()
    ids = [i for i, _ in hsa_entries(box)]
    assert len(ids) == len(set(ids)) and len(ids) >= applied  # what it says was applied is
    second = reconcile(model, box.settings())
    assert not second["failed"], second.get("msg")
    _converged(box, PEOPLE + 2)
    third = reconcile(model, box.settings())
    assert third["changed"] is False


def test_server_restarted_during_the_retry_window_recovers_in_one_run(slow_box, description):
    from ansible.module_utils.hsa_gateway import reconcile

    box, uri = slow_box

    def bounce():
        box.stop()
        threading.Timer(0.2, box.start).start()

    state = _when_entries(box, 10, bounce)
    result = reconcile(_model(description), box.settings(uri=uri, timeout=2), retries=4)
    assert state["fired"] and not result["failed"], (state, result.get("msg"))
    assert result["apply"]["retries"] >= 1
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
    assert "no answer within 2 s" in res["msg"], res["msg"]
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
    assert "no answer within 2 s (hsa_ldap_timeout)" in r.stdout, r.stdout[-2000:]
    _converged(box, 0)


def test_server_frozen_mid_apply_stops_in_bounded_time_then_converges(slow_box, description):
    from ansible.module_utils.hsa_gateway import reconcile

    box, uri = slow_box
    pid = box.info.pid
    state = _when_entries(box, 10, lambda: os.kill(pid, signal.SIGSTOP))
    try:
        first = reconcile(_model(description), box.settings(uri=uri, timeout=1), retries=1)
        done = time.monotonic()
    finally:
        state["thread"].join(5)
        os.kill(pid, signal.SIGCONT)
    assert state["fired"] and first["failed"], (state, first.get("apply"))
    assert done - state["at"] < 20, done - state["at"]
    assert "apply stopped at operation" in first["msg"], first["msg"]
    second = reconcile(_model(description), box.settings())
    assert not second["failed"], second.get("msg")
    _converged(box, PEOPLE + 2)


class _SlowProxy:
    """127.0.0.1 TCP proxy that delays every chunk and can throttle what the client sends
    (bytes per second), so that an apply takes seconds however it batches its requests."""

    def __init__(self, port: int, delay: float = 0.0, rate: int | None = None):
        import socket

        self.target, self.delay, self.rate = port, delay, rate
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket

        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:  # the server is down: the client sees a closed connection
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, server, self.rate),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, None),
                             daemon=True).start()

    def _pipe(self, src, dst, rate):
        try:
            while data := src.recv(65536):
                time.sleep(self.delay)
                if rate:
                    for k in range(0, len(data), 256):
                        time.sleep(256 / rate)
                        dst.sendall(data[k:k + 256])
                else:
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for sk in (src, dst):
                with contextlib.suppress(OSError):
                    sk.close()

    def close(self):
        self.closed = True
        self.sock.close()


def test_slow_server_is_waited_for_and_the_apply_completes(hsa_sandbox_factory, tmp_path):
    box = hsa_sandbox_factory("slow")
    proxy = _SlowProxy(box.port, 0.05)
    try:
        folder = write_tree(tmp_path / "p", provider_files(people=5))
        uri = f"ldap://127.0.0.1:{proxy.port}"
        rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder), "timeout": 3,
                                                    **ldap_args(box, uri=uri)})
    finally:
        proxy.close()
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


def _subordinate_referral(acl_box, tmp_path):
    folder = write_tree(tmp_path / "v1", _adv_files(people=1))
    rc, _, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                              **ldap_args(acl_box)})
    assert rc == 0, out[-2000:]
    remote = "ou=Remote,o=Adv AB,c=SE"
    ldif_add(acl_box, f"dn: {remote}\nobjectClass: referral\nobjectClass: extensibleObject\n"
                      "ou: Remote\nref: ldap://hsa.elsewhere.example/ou=Remote,c=SE\n")
    files = _adv_files(people=1)
    files["units/remote.yml"] = (
        f"units:\n  - hsa_id: SE{ORG}-E2\n    name: Remote\n    email: r@example.se\n"
        f"    workplace_codes: [\"1234568\"]\npeople:\n"
        f"  - hsa_id: SE{ORG}-P9\n    given_name: Rut\n    surname: Fjärr\n"
        f"    titles: [Läkare]\n    unit: SE{ORG}-E2\n")
    v2 = write_tree(tmp_path / "v2", files)
    before = acl_box.dump()
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(v2), **ldap_args(acl_box)})
    assert acl_box.dump() == before
    return remote, rc, res, out


def test_subordinate_referral_stops_the_apply_at_that_operation(acl_box, tmp_path):
    remote, rc, res, out = _subordinate_referral(acl_box, tmp_path)
    assert rc != 0, out[-2000:]
    failed = res["apply"]["failed"]
    assert failed["dn"] == remote and failed["op"] == "add", failed
    assert res["apply"]["applied"] == 0 and res["apply"]["not_applied"] == 1
    assert remote in res["msg"] and "run again" in res["msg"]


@pytest.mark.xfail(strict=True, reason=(
    "FINDING, open (the reads skip continuation references silently: hsa_ldap.paged_search "
    "and hsa_gateway.search_raw; see docs/hardening.md): a part of the tree the server "
    "refers elsewhere is invisible to the read, so the add that meets it is reported as "
    "'entryAlreadyExists: the entry changed since it was read (someone else edited it)' "
    "instead of naming the referral"))
def test_subordinate_referral_is_named_in_the_message(acl_box, tmp_path):
    res = _subordinate_referral(acl_box, tmp_path)[2]
    assert "referral" in res["msg"].lower() or "refers" in res["msg"].lower(), res["msg"]


# --------------------------------------------------------------- Ctrl-C during an apply


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """ansible-playbook playbooks/hsa.yml applying 600 people through a 20 kB/s link gets
    SIGINT (Ctrl-C) once 100 entries are in."""
    from sandbox_fixtures import Sandbox

    base = tmp_path_factory.mktemp("sigint")
    d = base / "sandbox"
    box = Sandbox(sb.start(d))
    proxy = _SlowProxy(box.port, rate=20000)
    files = provider_files(people=0)
    files["units/ett.yml"] += "".join(
        person_yaml(i, extra="    uses_webcert: false\n") for i in range(1, 601))
    folder = write_tree(base / "provider", files)
    reports = base / "reports"
    env = playbook_env(box, HSA_LDAP_URI=f"ldap://127.0.0.1:{proxy.port}")
    log = base / "playbook.log"
    cmd = playbook_cmd("hsa.yml", "-e", f"hsa_provider_path={folder}",
                       "-e", f"hsa_report_dir={reports}")
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        count = 0
        while time.monotonic() < deadline and proc.poll() is None:
            count = len(hsa_entries(box))
            if count >= 100:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        proc.wait(timeout=60)
        yield {"box": box, "folder": folder, "reports": reports, "rc": proc.returncode,
               "out": log.read_text(encoding="utf-8", errors="replace"), "seen": count,
               "env": playbook_env(box)}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proxy.close()
        sb.stop(d)


def test_ctrl_c_mid_apply_then_rerun_converges(interrupted):
    box = interrupted["box"]
    assert interrupted["rc"] != 0 and interrupted["seen"] >= 100, interrupted["out"][-2000:]
    applied = len(hsa_entries(box))
    assert 0 < applied < 602, applied  # really interrupted in the middle
    r = subprocess.run(playbook_cmd("hsa.yml", "-e", f"hsa_provider_path={interrupted['folder']}"),
                       cwd=ROOT, env=interrupted["env"], capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stdout[-3000:]
    _converged(box, 602)


@pytest.mark.xfail(strict=True, reason=(
    "FINDING, open (hsa_gateway.apply_plan / library/hsa_reconcile.py; see "
    "docs/hardening.md): on SIGINT the module process dies with KeyboardInterrupt and nothing "
    "records which operations were applied; there is no apply log/report file"))
def test_ctrl_c_mid_apply_leaves_a_report_of_what_was_applied(interrupted):
    applied = len(hsa_entries(interrupted["box"]))
    text = interrupted["out"]
    files = list(interrupted["reports"].rglob("*")) if interrupted["reports"].exists() else []
    texts = text + "".join(f.read_text(errors="replace") for f in files if f.is_file())
    assert "applied" in texts and (str(applied) in texts or str(applied - 1) in texts), (
        applied, text[-1500:], files)
