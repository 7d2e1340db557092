"""Faults on the Windows side, played by recorded hosts (a test of the roles' logic).

A host unreachable in its batch, a WinRM connection lost in the middle of a role, installers
that exit 1603, 1618, 3010 or 1641, an installer that hangs past its timeout: the rollout goes
on with the other hosts as workstation_max_fail_percentage allows, workstations.json tells each
host's true state, and a run after the faults are gone converges. This fleet asks for English
(webcert_language: en); test_workstations_recorded.py reads the Swedish default.
"""

from __future__ import annotations

import pytest
from recorded_host.harness import EID_STANDARD, Fleet, module_calls, recap

pytestmark = pytest.mark.slow

FAULTED = ("pc-1603", "pc-down", "pc-lost", "pc-3010", "pc-timeout")


def with_installer_rc(fleet: Fleet, state: dict, rc=None, sequence=None) -> dict:
    sha = fleet.installers["eid"]["sha256"]
    spec = state["installers"][sha]
    if sequence:
        spec["rc_sequence"] = list(sequence)
    else:
        spec["rc"] = rc
    return state


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = Fleet(tmp_path_factory.mktemp("faults"))
    fleet.add(
        "unit_faults",
        "pc-1603",
        with_installer_rc(fleet, fleet.fresh(), 1603),
        workstation_allow_reboot=True,
        webcert_language="en",
    )
    fleet.add("unit_faults", "pc-ok", fleet.healthy())
    fleet.add("unit_faults", "pc-down", fleet.healthy(faults=[{"kind": "unreachable"}]))
    fleet.add(
        "unit_faults",
        "pc-lost",
        fleet.fresh(faults=[{"kind": "connection_lost", "module": "win_regedit", "after": 1}]),
    )
    fleet.add("unit_faults", "pc-3010", with_installer_rc(fleet, fleet.fresh(clock="10:15"), 3010))
    fleet.add("unit_faults", "pc-1618", with_installer_rc(fleet, fleet.fresh(), sequence=[1618, 1618, 0]))
    fleet.add("unit_faults", "pc-1641", with_installer_rc(fleet, fleet.fresh(), 1641))
    fleet.add(
        "unit_slow",
        "pc-timeout",
        fleet.fresh(faults=[{"kind": "hang", "module": "win_package", "seconds": 60}]),
        siths_eid_app_installer=fleet.installer("eid", EID_STANDARD, timeout=5),
        webcert_language="en",
    )
    fleet.extra_vars = {"workstation_serial": "100%", "workstation_max_fail_percentage": 100}
    fleet.first = fleet.run()
    fleet.first_report = fleet.report()
    fleet.first_calls = {h: fleet.calls(h) for h in ("pc-1618", "pc-1641", "pc-3010")}
    return fleet


def problems(fleet, host):
    return " | ".join(fleet.first_report[host]["problems"])


def test_each_host_is_reported_with_its_true_state(fleet):
    report = fleet.first_report
    assert report["pc-ok"]["compliant"] is True, problems(fleet, "pc-ok")
    assert "unreachable" in problems(fleet, "pc-down")
    assert "connection was lost during the run" in problems(fleet, "pc-lost")
    assert "rc 1603" in problems(fleet, "pc-1603")
    assert (
        "timed out" in problems(fleet, "pc-timeout").lower()
        or "timeout" in problems(fleet, "pc-timeout").lower()
    )
    for host in ("pc-down", "pc-lost", "pc-1603", "pc-timeout"):
        assert report[host]["compliant"] is False, host
    # The run fails at the end (hosts need attention) after every host was handled.
    assert fleet.first.returncode != 0
    assert "PCs that need attention (see workstations.json)" in fleet.first.stdout


def test_busy_installer_is_tried_again_and_succeeds(fleet):
    calls = module_calls(fleet.first_calls["pc-1618"], "win_package", state="present")
    assert len(calls) == 3
    assert fleet.first_report["pc-1618"]["compliant"] is True, problems(fleet, "pc-1618")


def test_installer_that_restarted_the_host_itself(fleet):
    entry = fleet.first_report["pc-1641"]
    assert entry["compliant"] is True, entry["problems"]
    assert any("restarted the host itself (exit code 1641)" in w for w in entry["warnings"])
    assert not module_calls(fleet.first_calls["pc-1641"], "shutdown")


def test_reboot_outside_the_window_is_pending_not_done(fleet):
    entry = fleet.first_report["pc-3010"]
    assert entry["compliant"] is False
    assert entry["reboot_required"] is True
    assert any("outside the maintenance window 19:00-06:00 (host time 10:15)" in p for p in entry["problems"])
    assert not module_calls(fleet.first_calls["pc-3010"], "shutdown")


def test_rollout_stops_after_a_failed_batch_with_max_fail_zero(fleet):
    fleet.extra_vars = {"workstation_serial": 1, "workstation_max_fail_percentage": 0}
    # No localhost in the limit: the workstations' own play writes the summary on the controller.
    (fleet.reports / "workstations.json").unlink()
    run = fleet.run("--limit", "pc-1603,pc-ok")
    report = fleet.report()
    assert "the rollout stops here" in run.stdout  # webcert_language: en
    assert "no facts gathered" in " ".join(report["pc-ok"]["problems"])
    assert not fleet.calls("pc-ok"), "the second batch is never contacted"


def test_a_run_after_the_faults_are_gone_converges(fleet):
    for host in FAULTED:
        state = fleet.state(host)
        state["faults"] = []
        state["clock"] = "22:00"
        for spec in state["installers"].values():
            spec.pop("rc_sequence", None)
            spec["rc"] = 0
        fleet.save(host, state)
    fleet.group_vars["unit_faults"]["workstation_allow_reboot"] = True
    fleet.extra_vars = {"workstation_serial": "100%", "workstation_max_fail_percentage": 100}
    # The hosts that were compliant after the first run (pc-ok, pc-1618, pc-1641) have nothing
    # to converge: only the faulted ones run, then every host that ever changed runs once more.
    first = fleet.run("--limit", ",".join(FAULTED))
    report = fleet.report()
    assert set(report) == set(FAULTED)
    for host, entry in report.items():
        assert entry["compliant"] is True, (host, entry["problems"], first.stdout[-3000:])
    assert [p["name"] for p in fleet.state("pc-1603")["products"]] == [EID_STANDARD["name"]]
    again = fleet.run("--limit", ",".join((*FAULTED, "pc-1618", "pc-1641")))
    counts = recap(again.stdout)
    for host in (*FAULTED, "pc-1618", "pc-1641"):
        assert counts[host]["changed"] == 0, (host, again.stdout[-3000:])
    assert all(entry["compliant"] for entry in fleet.report().values())
