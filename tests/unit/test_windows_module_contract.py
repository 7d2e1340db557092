"""The controller code reads only values the ansible.windows modules can really return.

Everything here is read from the installed collection (tests/windows_contract.py): the
PowerShell switch that turns a running service into ``started``, the registry type names
win_reg_stat reports, the exit code win_package itself treats as "reboot required", the
keys win_powershell and win_certificate_info return. When ansible.windows changes one of
these, this file fails before a clinic PC is reported wrongly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import windows_contract as contract
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation import (
    installers,
    policy,
    services,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.compliance import (
    evaluate_host,
)

ROOT = Path(__file__).resolve().parents[2]


def test_service_states_and_start_modes_are_the_modules_own():
    assert set(services.SERVICE_STATES) == set(contract.service_states())
    assert set(services.START_MODES) == set(contract.service_start_modes())
    assert "running" not in contract.service_states()


@pytest.mark.parametrize("md", [False, True])
@pytest.mark.parametrize("client", services.CLIENTS)
def test_every_service_rule_is_a_state_the_info_module_reports(client, md):
    win_service = contract.module_options("win_service")
    for rule in services.service_rules(client, md_package=md, lock_on_removal=True, certprop="auto"):
        # The rule is sent to win_service and compared with win_service_info's answer.
        assert rule.state in win_service["state"]["choices"]
        assert rule.start_mode in win_service["start_mode"]["choices"]
        assert rule.state in contract.service_states()
        assert rule.start_mode in contract.service_start_modes()


def test_a_healthy_service_answer_is_compliant_and_running_is_refused():
    rules = services.service_rules("siths_eid_app")
    answer = contract.service_info_result([contract.service_row("SCardSvr", "started", "auto")])
    seen = services.services_from_info(answer["services"])
    assert services.service_problems(rules, seen) == []
    with pytest.raises(ValueError, match="never returns state 'running'"):
        contract.service_row("SCardSvr", "running", "auto")


def test_registry_reading_uses_documented_keys_and_types():
    stat = contract.reg_stat_key({"1": ("REG_SZ", "https://idp.inera.se"), "": ("REG_SZ", "")})
    result = dict(stat, item="HKLM:\\K")
    assert policy.values_by_key([result]) == {"HKLM:\\K": {"1": "https://idp.inera.se"}}
    owned = contract.reg_stat_key({"HKLM:\\K": ("REG_MULTI_SZ", ["a", "b"])})
    assert policy.owned_by_key(owned) == {"HKLM:\\K": ["a", "b"]}
    assert policy.values_by_key([dict(contract.reg_stat_key(None), item="HKLM:\\K")]) == {"HKLM:\\K": {}}


def test_every_registry_type_the_renderers_write_exists_in_win_regedit():
    ops, errors = policy.browser_registry_ops(
        {
            "auto_select_hosts": ["idp.inera.se"],
            "auto_select_issuer_cns": ["SITHS e-id Person HSA-id 3 CA v1"],
            "popup_hosts": ["idp.inera.se"],
            "ie_mode_level": 1,
            "ie_mode_site_list": "https://intranet.example.se/sites.xml",
            "controls": {"trusted_sites": True},
            "trusted_sites": {"https://idp.inera.se": "2"},
        }
    )
    assert errors == []
    for op in ops:
        if op["state"] == "present":
            contract.reg_type(op["type"])


def test_win_package_sets_reboot_required_only_for_3010():
    # 1641 (the installer restarted the host itself) is success but not "reboot_required":
    # the roles must recognise it from rc, which installers.installer_outcome does.
    assert contract.package_reboot_codes() == (3010,)
    assert installers.installer_outcome(contract.package_result(1641))["outcome"] == "rebooted"
    assert installers.installer_outcome(contract.package_result(3010))["outcome"] == "reboot"
    assert installers.installer_outcome(contract.package_result(0))["outcome"] == "ok"
    assert installers.installer_outcome(contract.package_failure(1618))["outcome"] == "retry"
    assert installers.installer_outcome(contract.package_failure(1603))["outcome"] == "failed"
    defaults = contract.module_options("win_package")["expected_return_code"]["default"]
    assert 1641 not in defaults
    assert set(installers.ACCEPTED_EXIT_CODES) >= {*defaults, 1641}


def test_msi_uninstall_runs_msiexec_quietly():
    source = contract.module_source("win_package")
    assert "'/qn', '/norestart'" in source
    assert "$actions = @('/x', $Id)" in source


def test_certificate_rows_carry_thumbprint_and_subject():
    row = contract.certificate_row("ab" * 20, "CN=SITHS Root CA v1, O=Inera AB, C=SE")
    answer = contract.certificate_info_result([row])
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.trust import (
        legacy_certificates,
    )

    assert legacy_certificates(answer["certificates"])[0]["thumbprint"] == "AB" * 20


def test_compliance_of_a_host_built_only_from_module_answers():
    svc = contract.service_info_result(
        [
            contract.service_row("SCardSvr", "started", "auto"),
            contract.service_row("CertPropSvc", "stopped", "disabled"),
        ]
    )
    raw = {
        "client": {
            "name": "siths_eid_app",
            "installed": [{"name": "SITHS eID-app för Windows", "version": "2.0.8481", "product_id": "{E}"}],
            "min_version": "2.0.8481",
        },
        "smartcard": {
            "services": services.services_from_info(svc["services"]),
            "rules": services.service_rules_dicts("siths_eid_app", md_package=True),
            "readers": ["HID Global OMNIKEY 3x21 Smart Card Reader 0"],
        },
        "browser": {"browsers": ["edge"], "values": 2, "pending": 0},
    }
    entry = evaluate_host("pc", [], raw)
    assert entry["compliant"] is True, entry["problems"]


_STATE_COMPARE = re.compile(r"""(state|\.State)\s*(==|!=|-eq|-ne)\s*['"]running['"]""", re.IGNORECASE)


def test_no_role_playbook_or_verifier_expects_a_running_state():
    files = [
        *ROOT.glob("roles/*/tasks/*.yml"),
        *ROOT.glob("playbooks/*.yml"),
        *ROOT.glob("molecule/*/*.yml"),
        *ROOT.glob("molecule/*/tests/*.py"),
    ]
    offenders = [str(f.relative_to(ROOT)) for f in files if _STATE_COMPARE.search(f.read_text())]
    assert offenders == []
