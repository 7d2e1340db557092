"""playbooks/workstations.yml against recorded Windows hosts, in check mode and apply mode.

The hosts are played by tests/recorded_host (a test connection that answers each
ansible.windows module with an answer shaped from the installed module's own source and
RETURN). This is a test of the roles' logic — which module is called with which arguments,
what ends up in workstations.json, what a second run changes — not a test of Windows.

One fleet, one group per case:
- pc-healthy: configured before; nothing may change, compliant.
- pc-fresh: a PC as delivered; check mode changes nothing and reports it; apply installs the
  eID-app from the controller copy, starts SCardSvr, trusts the CAs, writes the policies.
- pc-foreign: GPO/Intune entries in the same list keys; they survive, ours are appended.
- pc-netid: Net iD Enterprise only, SITHS Admin PC: the standard eID-app is installed next to
  it and Net iD is never uninstalled.
- pc-md: the MD package next to Net iD: refused and reported, nothing uninstalled.
- pc-switch: the MD package where the standard one is wanted: uninstall, restart (inside the
  maintenance window, nobody logged on), install.
"""

from __future__ import annotations

import copy
import json

import pytest
from recorded_host.harness import (
    AUTO,
    CHROME,
    EDGE,
    EID_MD,
    EID_STANDARD,
    IDP,
    NETID,
    OWNED,
    WEBCERT,
    Fleet,
    module_calls,
    recap,
)

pytestmark = pytest.mark.slow

GPO_POPUP = "https://intranet.clinic.example.se"
GPO_AUTO = '{"pattern":"https://intranet.clinic.example.se","filter":{"ISSUER":{"CN":"Clinic CA"}}}'
HOSTS = ("pc-healthy", "pc-fresh", "pc-foreign", "pc-netid", "pc-md", "pc-switch")
CONVERGED = ("pc-fresh", "pc-foreign", "pc-netid", "pc-switch")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = Fleet(tmp_path_factory.mktemp("recorded"))
    fleet.add("unit_soder", "pc-healthy", fleet.healthy())
    fleet.add("unit_soder", "pc-fresh", fleet.fresh())
    foreign = fleet.fresh(products=[copy.deepcopy(EID_STANDARD)])
    foreign["services"]["SCardSvr"] = {"state": "started", "start_mode": "auto"}
    foreign["registry"] = {
        f"{EDGE}\\PopupsAllowedForUrls": {"1": GPO_POPUP, "3": "[*.]1177.se"},
        f"{EDGE}\\AutoSelectCertificateForUrls": {"1": GPO_AUTO},
        f"{EDGE}\\ExtensionInstallForcelist": {
            "1": "abcdefghijklmnopabcdefghijklmnop;https://edge.example/u"
        },
    }
    fleet.add("unit_soder", "pc-foreign", foreign)
    fleet.add(
        "unit_tandvard",
        "pc-netid",
        fleet.healthy(products=[copy.deepcopy(NETID)]),
        workstation_netid_for_siths_admin=True,
        smartcard_netid_certmover=True,
        netid_installer=fleet.installer("netid", NETID, arguments="/S"),
    )
    fleet.add(
        "unit_norr",
        "pc-md",
        fleet.healthy(products=[copy.deepcopy(EID_MD), copy.deepcopy(NETID)]),
        siths_eid_app_package_type="md",
        siths_eid_app_installer=fleet.installer("eid_md", EID_MD),
    )
    switch = fleet.healthy(products=[copy.deepcopy(EID_MD)], clock="22:15", users=[])
    fleet.add("unit_switch", "pc-switch", switch, workstation_allow_reboot=True)
    fleet.extra_vars = {"workstation_serial": "100%", "workstation_max_fail_percentage": 100}
    fleet.before = {h: fleet.state(h) for h in HOSTS}
    fleet.check_run = fleet.run(check=True)
    fleet.check_calls = {h: fleet.calls(h) for h in HOSTS}
    fleet.check_report = fleet.report()
    fleet.after_check = {h: fleet.state(h) for h in HOSTS}
    fleet.apply_run = fleet.run()
    fleet.apply_calls = {h: fleet.calls(h) for h in HOSTS}
    fleet.apply_report = fleet.report()
    # Only the hosts the apply run changed run again: pc-healthy's and pc-md's second run is
    # their apply run (asserted unchanged below).
    fleet.again_run = fleet.run("--limit", ",".join(CONVERGED))
    fleet.again_report = fleet.report()
    return fleet


def output(run) -> str:
    return run.stdout[-4000:] + run.stderr[-2000:]


# ----------------------------------------------------------------------------- check mode


def test_check_mode_sends_every_call_in_check_mode_and_changes_nothing(fleet):
    for host in HOSTS:
        assert fleet.check_calls[host], host
        not_check = [c for c in fleet.check_calls[host] if not c["check_mode"]]
        assert not_check == [], (host, not_check)
        assert fleet.after_check[host]["products"] == fleet.before[host]["products"], host
        assert fleet.after_check[host]["registry"] == fleet.before[host]["registry"], host
        assert fleet.after_check[host]["services"] == fleet.before[host]["services"], host


def test_check_mode_reports_what_differs(fleet):
    report = fleet.check_report
    assert report["pc-healthy"]["compliant"] is True, report["pc-healthy"]["problems"]
    assert recap(fleet.check_run.stdout)["pc-healthy"]["changed"] == 0
    fresh = report["pc-fresh"]["problems"]
    # Swedish by default (webcert_language is not set in this fleet).
    assert "SITHS eID-app är inte installerad" in fresh
    assert any("Tjänsten SCardSvr är stoppad men ska vara igång" in p for p in fresh), fresh
    assert any("webbläsarinställningar avviker från det önskade läget" in p for p in fresh), fresh
    assert report["pc-fresh"]["compliant"] is False


# ----------------------------------------------------------------------------- apply mode


def test_fresh_host_gets_exact_module_arguments(fleet):
    calls = fleet.apply_calls["pc-fresh"]
    [package] = module_calls(calls, "win_package", state="present")
    installer = fleet.installers["eid"]
    assert package["args"]["path"] == "C:\\ProgramData\\WebcertToolkit\\installers\\eid.exe"
    assert package["args"]["checksum"] == installer["sha256"]
    assert package["args"]["checksum_algorithm"] == "sha256"
    assert package["args"]["product_id"] == EID_STANDARD["product_id"]
    assert package["args"]["expected_return_code"] == [0, 3010, 1641]
    # Staged from the controller (no file share read from the PC): win_copy, not a UNC path.
    assert module_calls(calls, "win_copy", dest=package["args"]["path"])
    [scard] = module_calls(calls, "win_service", name="SCardSvr")
    assert (scard["args"]["start_mode"], scard["args"]["state"]) == ("auto", "started")
    writes = {
        (c["args"]["path"], c["args"]["name"], c["args"].get("type"), json.dumps(c["args"].get("data")))
        for c in module_calls(calls, "win_regedit", state="present")
    }
    assert (f"{EDGE}\\AutoSelectCertificateForUrls", "1", "string", json.dumps(AUTO)) in writes
    assert (f"{CHROME}\\PopupsAllowedForUrls", "2", "string", json.dumps(IDP)) in writes
    assert (OWNED, f"{EDGE}\\PopupsAllowedForUrls", "multistring", json.dumps([WEBCERT, IDP])) in writes
    stores = {
        (c["args"]["store_name"], c["args"]["path"].rsplit("\\", 1)[-1])
        for c in module_calls(calls, "win_certificate_store", state="present")
    }
    assert stores == {
        ("Root", f"{fleet.root_thumb}.cer"),
        ("CertificateAuthority", f"{fleet.issuing_thumb}.cer"),
    }
    assert not module_calls(calls, "win_package", state="absent")
    assert fleet.apply_report["pc-fresh"]["compliant"] is True, fleet.apply_report["pc-fresh"]["problems"]


def test_foreign_policy_entries_survive_and_ours_are_appended(fleet):
    registry = fleet.state("pc-foreign")["registry"]
    popups = registry[f"{EDGE}\\PopupsAllowedForUrls"]
    assert popups["1"] == GPO_POPUP
    assert popups["3"] == "[*.]1177.se"
    assert popups["2"] == WEBCERT
    assert popups["4"] == IDP
    assert registry[f"{EDGE}\\AutoSelectCertificateForUrls"] == {"1": GPO_AUTO, "2": AUTO}
    assert (
        registry[f"{EDGE}\\ExtensionInstallForcelist"]
        == fleet.before["pc-foreign"]["registry"][f"{EDGE}\\ExtensionInstallForcelist"]
    )
    assert not module_calls(fleet.apply_calls["pc-foreign"], "win_regedit", state="absent")
    assert fleet.apply_report["pc-foreign"]["compliant"] is True


def test_netid_host_for_siths_admin_keeps_netid_and_gets_the_standard_eid_app(fleet):
    calls = fleet.apply_calls["pc-netid"]
    assert not module_calls(calls, "win_package", state="absent")
    [package] = module_calls(calls, "win_package", state="present")
    assert package["args"]["product_id"] == EID_STANDARD["product_id"]
    names = {p["name"] for p in fleet.state("pc-netid")["products"]}
    assert names == {EID_STANDARD["name"], NETID["name"]}
    entry = fleet.apply_report["pc-netid"]
    assert entry["compliant"] is True, entry["problems"]
    assert entry["netid_alongside"] == NETID["version"]
    # CertMover in use: Certificate Propagation is disabled.
    [certprop] = module_calls(calls, "win_service", name="CertPropSvc")
    assert (certprop["args"]["start_mode"], certprop["args"]["state"]) == ("disabled", "stopped")


def test_md_package_next_to_netid_is_refused_and_reported(fleet):
    calls = fleet.apply_calls["pc-md"]
    assert not module_calls(calls, "win_package")
    entry = fleet.apply_report["pc-md"]
    assert entry["compliant"] is False
    assert any("får inte kombineras med MD-paketet av SITHS eID-appen" in p for p in entry["problems"]), (
        entry["problems"]
    )


def test_switch_from_md_to_standard_is_uninstall_restart_install(fleet):
    calls = fleet.apply_calls["pc-switch"]
    order = [c["module"] for c in calls if c["module"] in ("win_package", "shutdown")]
    assert order == ["win_package", "shutdown", "win_package"], order
    [removed] = module_calls(calls, "win_package", state="absent")
    assert removed["args"]["product_id"] == EID_MD["product_id"]
    assert "arguments" not in removed["args"], "an MSI is removed by its product code (msiexec /x /qn)"
    [shutdown] = module_calls(calls, "shutdown")
    assert "Datorn startas om" in shutdown["args"]["command"]
    assert [p["name"] for p in fleet.state("pc-switch")["products"]] == [EID_STANDARD["name"]]
    assert fleet.apply_report["pc-switch"]["compliant"] is True, fleet.apply_report["pc-switch"]["problems"]


def test_second_run_converges(fleet):
    # Already configured: the apply run is pc-healthy's second run and changes nothing.
    assert recap(fleet.apply_run.stdout)["pc-healthy"]["changed"] == 0, output(fleet.apply_run)
    assert fleet.apply_report["pc-healthy"]["compliant"] is True, fleet.apply_report["pc-healthy"]["problems"]
    # Refused (MD package next to Net iD): stays non-compliant, nothing is installed or removed.
    assert fleet.apply_report["pc-md"]["compliant"] is False
    assert not module_calls(fleet.apply_calls["pc-md"], "win_package")
    counts = recap(fleet.again_run.stdout)
    assert set(fleet.again_report) == set(CONVERGED), "--limit alone writes the report for its hosts"
    for host in CONVERGED:
        assert counts[host]["changed"] == 0, (host, output(fleet.again_run))
        assert fleet.again_report[host]["compliant"] is True, fleet.again_report[host]["problems"]
