"""When a clinic PC may be restarted, and what a pinned installer may look like."""

from __future__ import annotations

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import use_language
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.installers import (
    validate_installer,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.reboot import (
    in_window,
    pending_reason,
    reboot_decision,
    reboot_message,
    restart_reason,
    window_problems,
)

SHA = "b" * 64


@pytest.mark.parametrize(
    ("now", "window", "inside"),
    [
        ("21:30", "19:00-06:00", True),
        ("05:59", "19:00-06:00", True),
        ("06:00", "19:00-06:00", False),
        ("12:00", "19:00-06:00", False),
        ("12:00", "", True),
        ("02:00", "01:00-03:00", True),
        ("03:00", "01:00-03:00", False),
    ],
)
def test_window_may_pass_midnight(now, window, inside):
    assert in_window(now, window) is inside


def test_bad_window_is_named():
    [problem] = window_problems("7pm-6am")
    assert problem.path == "workstation_reboot_window"
    assert "19:00-06:00" in problem.message


def test_decision_needs_permission_window_and_nobody_logged_on():
    assert reboot_decision("21:00", "19:00-06:00", [], allow=False)["reboot"] is False
    outside = reboot_decision("10:00", "19:00-06:00", [], allow=True)
    assert outside == {
        "reboot": False,
        "reason": "utanför underhållsfönstret 19:00-06:00 (datorns klocka 10:00)",
    }
    with use_language("en"):
        assert reboot_decision("10:00", "19:00-06:00", [], allow=True)["reason"] == (
            "outside the maintenance window 19:00-06:00 (host time 10:00)"
        )
    busy = reboot_decision("21:00", "19:00-06:00", ["CLINIC\\anna"], allow=True)
    assert busy["reboot"] is False and "CLINIC\\anna" in busy["reason"]
    assert reboot_decision("21:00", "19:00-06:00", ["CLINIC\\anna"], allow=True, force=True)["reboot"] is True
    assert reboot_decision("21:00", "19:00-06:00", [], allow=True)["reboot"] is True


def test_message_is_swedish_by_default_and_english_on_request():
    assert reboot_message("sv", 300).startswith("Datorn startas om om 5 minuter")
    assert reboot_message("en", 60).startswith("This computer restarts in 1 minute to")
    assert reboot_message("en", 600).startswith("This computer restarts in 10 minutes")
    assert reboot_message("", 60).startswith("Datorn startas om om 1 minut för")


def test_installer_from_the_controller_or_a_path_not_both():
    base = {"sha256": SHA, "product_id": "{X}", "version": "2.0.8481"}
    assert validate_installer({**base, "src": "files/SITHS.exe"}) == []
    assert validate_installer({**base, "path": "https://repo.example.se/SITHS.exe"}) == []
    [both] = validate_installer({**base, "src": "a.exe", "path": "C:\\a.exe"})
    assert "inte båda" in both.message  # Swedish by default
    [url_in_src] = validate_installer({**base, "src": "https://x/a.exe"})
    assert url_in_src.path == "installer.src"
    [timeout] = validate_installer({**base, "src": "a.exe", "timeout": 2})
    assert timeout.path == "installer.timeout"
    assert validate_installer({"src": ""}) == []


def test_stopped_smart_card_service_without_a_reader_is_normal():
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.services import (
        service_problems,
        service_rules,
    )

    rules = service_rules("siths_eid_app")
    stopped = {"SCardSvr": {"state": "stopped", "start_mode": "auto"}}
    assert service_problems(rules, stopped, readers_present=False) == []
    assert service_problems(rules, stopped, readers_present=True) != []
    manual = {"SCardSvr": {"state": "stopped", "start_mode": "manual"}}
    assert service_problems(rules, manual, readers_present=False) != []


def test_restart_reasons_are_swedish_by_default_and_english_on_request():
    assert restart_reason("SITHS eID-app", "installer") == (
        "SITHS eID-app: installationsprogrammet behöver en omstart (slutkod 3010)"
    )
    assert pending_reason(["Windows väntar på en omstart"], "", check_mode=True) == (
        "Windows väntar på en omstart (ingen omstart: kontrolläge (--check))"
    )
    with use_language("en"):
        driver = restart_reason("omnikey.inf", "driver")
        assert driver.startswith("reader driver omnikey.inf asks for a restart")
        why = reboot_decision("10:00", "19:00-06:00", [], allow=True)["reason"]
        assert pending_reason([restart_reason("Net iD", "uninstalled")], why) == (
            "Net iD was uninstalled; a restart must come before the next installation"
            " (not restarted: outside the maintenance window 19:00-06:00 (host time 10:00))"
        )
    with pytest.raises(ValueError, match="unknown restart reason"):
        restart_reason("x", "because")


def test_configuration_problems_in_swedish_by_default_and_english_on_request():
    from ansible_collections.webcert_siths.onboarding.plugins.filter.webcert_windows import (
        webcert_installer_problems,
        webcert_reboot_window_problems,
    )

    bad = {"path": "http://repo.example.se/a.exe", "sha256": "x", "product_id": "{X}",
           "version": "två"}
    swedish = webcert_installer_problems(bad, "netid_installer")
    english = webcert_installer_problems(bad, "netid_installer", language="en")
    assert "netid_installer.path: 'http://repo.example.se/a.exe' använder okrypterad http" in (
        " | ".join(swedish))
    assert any("är inte en SHA-256-kontrollsumma" in p for p in swedish)
    assert any("'två' är inte ett versionsnummer" in p for p in swedish)
    assert any("uses plain http; use https:// or a UNC path" in p for p in english)
    assert webcert_reboot_window_problems("kväll") == [
        "workstation_reboot_window: 'kväll' är inte ett underhållsfönster; skriv det som "
        "19:00-06:00 (datorns lokala tid)"]
    assert "is not a maintenance window" in webcert_reboot_window_problems("x", language="en")[0]
