"""Version rules, client/service compatibility, installer checks and compliance.

The rules are checked on their English sentences (``webcert_language: en``); the tests at the
end prove that Swedish is what a person reads by default.
"""

from __future__ import annotations

import datetime as dt

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import use_language
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.compliance import (
    build_report,
    evaluate_host,
    host_failure,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.installers import (
    signature_problems,
    validate_installer,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.services import (
    service_problems,
    service_rules,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.trust import (
    certificate_thumbprint,
    legacy_certificates,
    subject_cn,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.versions import (
    client_conflicts,
    compare_versions,
    install_decision,
    installed_client,
    minimum_version,
    parse_version,
    version_at_least,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from siths_testpki import ca_certificate, make_name, new_key
from windows_contract import service_row

SHA = "a" * 64
EID = {
    "DisplayName": "SITHS eID-app för Windows",
    "DisplayVersion": "2.0.8481",
    "PSChildName": "{EID}",
}
NETID = {"DisplayName": "Net iD Enterprise", "DisplayVersion": "6.8.2.14", "PSChildName": "{NETID}"}
# Shaped by win_service_info.ps1 itself (tests/windows_contract.py): a running service is "started".
RUNNING_AUTO = {k: service_row("SCardSvr", "started", "auto")[k] for k in ("state", "start_mode")}
MD_EID = dict(EID, DisplayName="SITHS eID-app för Windows MD", PSChildName="{EIDMD}")


@pytest.fixture(autouse=True)
def english(request):
    """English sentences, except in the tests about the default language."""
    if "swedish_by_default" in request.node.name:
        yield
        return
    with use_language("en"):
        yield


# ----------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("6.7", "6.10", -1),
        ("2.0.8481", "2.0.10000", -1),
        ("6.7", "6.7.0", 0),
        ("6.8.2.14", "6.7", 1),
        ("v2.1", "2.0.9999", 1),
        ("6.8.2.14 (build 3)", "6.8.2.14", 0),
        (6.7, "6.7", 0),
    ],
)
def test_compare_versions(a, b, expected):
    assert compare_versions(a, b) == expected


def test_version_at_least_is_numeric_not_lexical():
    assert version_at_least("6.10", "6.7")
    assert not version_at_least("2.0.8325", "2.0.8481")


@pytest.mark.parametrize("bad", ["", "latest", None, True, [6, 7]])
def test_unparseable_versions_raise_with_a_hint(bad):
    with pytest.raises(ValueError, match=r"like 6\.7"):
        parse_version(bad)


def test_minimum_versions_per_platform():
    assert minimum_version("siths_eid_app") == "2.0.8481"
    assert minimum_version("siths_eid_app", "vdi") == "2.0.8325"
    assert minimum_version("netid_enterprise") == "6.7"
    assert minimum_version("netid_client") is None


# ----------------------------------------------------------------- products and decisions


def test_installed_client_picks_highest_version_of_the_family():
    rows = [NETID, dict(NETID, DisplayVersion="6.10.0"), EID]
    assert installed_client(rows, "netid_enterprise")["version"] == "6.10.0"
    assert installed_client(rows, "netid_client") is None


def test_standard_eid_app_and_netid_enterprise_may_coexist():
    # Inera: the standard eID-app 2.x may run together with Net iD Enterprise (SITHS Admin).
    assert client_conflicts([NETID, EID], "siths_eid_app") == []
    assert client_conflicts([NETID, EID], "netid_enterprise") == []
    assert client_conflicts([EID], "siths_eid_app") == []
    with pytest.raises(ValueError, match="unknown client"):
        client_conflicts([], "iis")


def test_md_package_and_netid_are_a_conflict_both_ways():
    assert [(c["name"], c["kind"]) for c in client_conflicts([NETID, MD_EID], "siths_eid_app", "md")] == [
        ("Net iD Enterprise", "conflict")
    ]
    assert [(c["family"], c["kind"]) for c in client_conflicts([MD_EID], "netid_enterprise")] == [
        ("siths_eid_app", "conflict")
    ]


def test_switch_between_packagings_is_uninstall_reboot_install():
    [switch] = client_conflicts([EID], "siths_eid_app", "md")
    assert switch["kind"] == "switch"
    assert "uninstall, reboot, install" in switch["reason"]
    decision = install_decision([MD_EID], "siths_eid_app", "2.0.8481", "2.0.8481", "standard")
    assert decision["action"] == "switch"
    assert install_decision([MD_EID], "siths_eid_app", "2.0.8481", None, "standard")["action"] == "blocked"
    assert install_decision([EID], "siths_eid_app", "2.0.8481", "2.0.8481", "standard")["action"] == "none"


def test_netid_client_and_enterprise_are_alternatives():
    client = {"DisplayName": "Net iD Client", "DisplayVersion": "1.2", "PSChildName": "{NC}"}
    assert [c["kind"] for c in client_conflicts([NETID, client], "netid_enterprise")] == ["conflict"]


@pytest.mark.parametrize(
    ("installed", "minimum", "target", "action"),
    [
        ([], "2.0.8481", "2.0.8481", "install"),
        ([], "2.0.8481", None, "blocked"),
        ([], "2.0.8481", "2.0.8000", "blocked"),
        ([dict(EID, DisplayVersion="2.0.8325")], "2.0.8481", "2.0.10000", "upgrade"),
        ([dict(EID, DisplayVersion="2.0.8325")], "2.0.8481", None, "blocked"),
        ([EID], "2.0.8481", "2.0.8481", "none"),
        ([EID], "2.0.8481", "2.0.10000", "upgrade"),
        ([dict(EID, DisplayVersion="2.0.10000")], "2.0.8481", "2.0.8481", "none"),
    ],
)
def test_install_decision(installed, minimum, target, action):
    assert install_decision(installed, "siths_eid_app", minimum, target)["action"] == action


# ----------------------------------------------------------------- services


def rules_by_name(**kwargs):
    return {r.name: (r.state, r.start_mode) for r in service_rules(**kwargs)}


def test_md_package_disables_certificate_propagation():
    assert rules_by_name(client="siths_eid_app", md_package=True)["CertPropSvc"] == (
        "stopped",
        "disabled",
    )


def test_non_md_eid_app_leaves_certificate_propagation_alone():
    assert "CertPropSvc" not in rules_by_name(client="siths_eid_app", md_package=False)


def test_netid_certmover_disables_certificate_propagation():
    assert rules_by_name(client="netid_enterprise", netid_certmover=True)["CertPropSvc"] == (
        "stopped",
        "disabled",
    )
    assert "CertPropSvc" not in rules_by_name(client="netid_enterprise")


def test_operator_override_wins_and_smart_card_always_runs():
    rules = rules_by_name(client="siths_eid_app", md_package=True, certprop="enabled")
    assert rules["CertPropSvc"] == ("started", "manual")
    assert rules["SCardSvr"] == ("started", "auto")


def test_lock_on_removal_needs_removal_policy_service():
    assert rules_by_name(client="netid_client", lock_on_removal=True)["SCPolicySvc"] == (
        "started",
        "auto",
    )
    assert "SCPolicySvc" not in rules_by_name(client="netid_client")


def test_bad_service_arguments():
    with pytest.raises(ValueError, match="certprop"):
        service_rules("siths_eid_app", certprop="sometimes")


def test_service_problems_name_the_service_and_reason():
    rules = service_rules("siths_eid_app", md_package=True)
    services = {
        "SCardSvr": {"state": "stopped", "start_mode": "manual"},
        "certpropsvc": RUNNING_AUTO,
    }
    problems = service_problems(rules, services)
    assert len(problems) == 4
    assert any("SCardSvr is stopped, expected running" in p for p in problems)
    assert any(
        "CertPropSvc start mode is automatic, expected disabled" in p and "MD package" in p for p in problems
    )


def test_delayed_auto_counts_as_auto_and_missing_stopped_service_is_fine():
    rules = service_rules("siths_eid_app", md_package=True)
    assert service_problems(rules, {"SCardSvr": {"state": "started", "start_mode": "delayed"}}) == []
    assert service_problems(rules, {}) == [
        "service SCardSvr is missing (the Smart Card service must run for any card reader)"
    ]


# ----------------------------------------------------------------- installers


def good_installer(**change):
    installer = {
        "path": "\\\\fs01\\software\\SITHS_eID.exe",
        "sha256": SHA,
        "product_id": "{EID}",
        "version": "2.0.8481",
        "arguments": ["/quiet"],
    }
    installer.update(change)
    return installer


def test_complete_installer_is_valid_and_empty_path_means_none_supplied():
    assert validate_installer(good_installer()) == []
    assert validate_installer(good_installer(path="https://files.example.se/x.exe")) == []
    assert validate_installer({"path": ""}) == []
    assert validate_installer(None) == []


def test_missing_sha256_is_an_error():
    installer = good_installer()
    del installer["sha256"]
    problems = validate_installer(installer, "siths_eid_app_installer")
    assert [str(p).split(":")[0] for p in problems] == ["siths_eid_app_installer.sha256"]
    assert "required" in problems[0].message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sha256": "abc"}, "sha256"),
        ({"sha256": "g" * 64}, "sha256"),
        ({"path": "http://files.example.se/x.exe"}, "path"),
        ({"path": "relative\\x.exe"}, "path"),
        ({"path": 5}, "path"),
        ({"product_id": ""}, "product_id"),
        ({"version": "latest"}, "version"),
        ({"version": None}, "version"),
        ({"arguments": [1, 2]}, "arguments"),
        ({"expected_return_codes": "0"}, "expected_return_codes"),
        ({"expected_return_codes": [True]}, "expected_return_codes"),
        ({"signer_subject": 3}, "signer_subject"),
    ],
)
def test_installer_field_errors(change, field):
    problems = validate_installer(good_installer(**change), "x")
    assert [p.path for p in problems] == [f"x.{field}"]


def test_http_only_when_explicitly_allowed():
    assert validate_installer(good_installer(path="http://a/x.exe"), allow_http=True) == []


def test_signature_check():
    assert signature_problems(None, None) == []
    assert signature_problems({"status": "Valid", "subject": "CN=Inera AB, O=Inera AB"}, "Inera AB") == []
    problems = signature_problems({"status": "HashMismatch", "subject": "CN=Evil"}, "Inera AB")
    assert len(problems) == 2
    assert signature_problems(None, "Inera AB") == [
        "the installer's Authenticode signature could not be read"
    ]
    assert "expected a signer whose name contains 'Inera AB'" in problems[1]


def test_signature_problems_are_swedish_by_default():
    problems = signature_problems({"status": "NotSigned", "subject": ""}, "Inera AB")
    assert problems == [
        "Installationsprogrammets Authenticode-signatur har status NotSigned, men ska vara Valid",
        "Installationsprogrammet är signerat av '-', men signeraren ska ha ett namn som innehåller"
        " 'Inera AB'",
    ]


# ----------------------------------------------------------------- certificates


def make_cert(cn: str) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return ca_certificate(make_name(cn), new_key(), not_before=now,
                          not_after=now + dt.timedelta(days=1))


def test_thumbprint_is_sha1_of_der_for_pem_der_and_base64():
    import base64

    cert = make_cert("SITHS e-id Root CA v2")
    expected = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Windows thumbprints are SHA-1
    pem = cert.public_bytes(serialization.Encoding.PEM)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert certificate_thumbprint(pem.decode()) == expected
    assert certificate_thumbprint(der) == expected
    assert certificate_thumbprint(base64.b64encode(der).decode()) == expected
    assert certificate_thumbprint(base64.b64encode(pem).decode()) == expected
    with pytest.raises(ValueError, match="not a certificate"):
        certificate_thumbprint("hello")


def test_legacy_cas_found_by_subject_cn_including_test_prefixes():
    certs = [
        {"subject": "CN=SITHS Root CA v1, O=Inera AB, C=SE", "thumbprint": "aa"},
        {"subject": "CN=TEST SITHS Type 3 CA v1, O=Inera AB, C=SE", "thumbprint": "bb"},
        {"subject": "CN=SITHS e-id Root CA v2, O=Inera AB, C=SE", "thumbprint": "cc"},
    ]
    assert [c["thumbprint"] for c in legacy_certificates(certs)] == ["AA", "BB"]
    assert subject_cn('CN="Inera, AB", C=SE') == "Inera, AB"


# ----------------------------------------------------------------- compliance


def raw_facts(**override):
    raw = {
        "client": {
            "name": "siths_eid_app",
            "installed": [EID],
            "min_version": "2.0.8481",
            "reboot_required": False,
        },
        "smartcard": {
            "services": {
                "SCardSvr": RUNNING_AUTO,
                "CertPropSvc": {"state": "stopped", "start_mode": "disabled"},
            },
            "rules": [r.__dict__ for r in service_rules("siths_eid_app", md_package=True)],
            "readers": ["HID Global OMNIKEY 3x21 Smart Card Reader 0"],
        },
        "browser": {"browsers": ["edge", "chrome"], "values": 6, "pending": 0},
        "trust": {
            "expected": [{"thumbprint": "AB", "subject": "CN=SITHS e-id Root CA v2", "store": "Root"}],
            "present": {"Root": ["ab"]},
            "legacy": [],
        },
    }
    raw.update(override)
    return raw


def test_compliant_host_matches_the_contract():
    entry = evaluate_host("pc-norr-01", ["all", "unit_norr", "workstations"], raw_facts())
    assert entry["compliant"] is True, entry["problems"]
    assert entry["problems"] == []
    assert entry["groups"] == ["unit_norr", "workstations"]
    assert entry["client"] == "siths_eid_app"
    assert entry["client_version"] == "2.0.8481"
    assert entry["services"]["SCardSvr"] == {"state": "started", "start_mode": "auto"}
    assert entry["readers"] == ["HID Global OMNIKEY 3x21 Smart Card Reader 0"]
    assert entry["reboot_required"] is False
    assert entry["trusted_cas"] == {"expected": 1, "missing": [], "legacy": []}


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        (
            {"client": {"name": "siths_eid_app", "installed": [], "min_version": "2.0.8481"}},
            "not installed",
        ),
        (
            {
                "client": {
                    "name": "siths_eid_app",
                    "installed": [dict(EID, DisplayVersion="2.0.8325")],
                    "min_version": "2.0.8481",
                }
            },
            "2.0.8325 is older than the required 2.0.8481",
        ),
        (
            {
                "client": {
                    "name": "siths_eid_app",
                    "package_type": "md",
                    "installed": [MD_EID, NETID],
                    "min_version": "",
                }
            },
            "must not be combined with the SITHS eID-app MD package",
        ),
        (
            {"client": {"name": "siths_eid_app", "installed": [MD_EID], "min_version": ""}},
            "SITHS eID-app is not installed",
        ),
        ({"reboot": {"pending": True, "reason": "outside the maintenance window"}}, "outside the"),
        (
            {"client": {"name": "siths_eid_app", "installed": [EID], "reboot_required": True}},
            "restart is pending",
        ),
        ({"browser": {"values": 6, "pending": 2}}, "2 browser policy registry values"),
        (
            {
                "trust": {
                    "expected": [{"thumbprint": "AB", "subject": "CN=Root", "store": "Root"}],
                    "present": {},
                }
            },
            "CN=Root is not trusted",
        ),
        (
            {
                "trust": {
                    "expected": [],
                    "legacy": [{"subject": "CN=SITHS Root CA v1"}],
                    "remove_legacy": True,
                }
            },
            "legacy SITHS CA",
        ),
        (
            {"smartcard": None},
            "no facts about the smart-card services",
        ),
    ],
)
def test_each_problem_makes_the_host_non_compliant(override, fragment):
    raw = {k: v for k, v in raw_facts(**override).items() if v is not None}
    entry = evaluate_host("pc", ["unit_norr"], raw)
    assert entry["compliant"] is False
    assert any(fragment in p for p in entry["problems"]), entry["problems"]


def test_missing_reader_is_a_warning_when_not_required():
    raw = raw_facts()
    raw["smartcard"]["readers"] = []
    assert evaluate_host("pc", [], raw)["compliant"] is False
    relaxed = evaluate_host("pc", [], raw, require_reader=False)
    assert relaxed["compliant"] is True
    assert relaxed["warnings"] == ["no card reader is connected"]


def test_legacy_ca_is_only_a_warning_unless_removal_was_asked():
    raw = raw_facts()
    raw["trust"]["legacy"] = [{"subject": "CN=SITHS Root CA v1"}]
    entry = evaluate_host("pc", [], raw)
    assert entry["compliant"] is True
    assert entry["warnings"] == ["legacy SITHS CA CN=SITHS Root CA v1 is still trusted"]


def test_standard_eid_app_with_netid_for_siths_admin_is_compliant():
    raw = raw_facts()
    raw["client"]["installed"] = [EID, NETID]
    raw["netid_alongside"] = {"name": "netid_enterprise", "installed": [EID, NETID], "min_version": "6.7"}
    entry = evaluate_host("pc-tand-01", ["unit_tandvard"], raw)
    assert entry["compliant"] is True, entry["problems"]
    assert entry["netid_alongside"] == "6.8.2.14"
    raw["netid_alongside"]["installed"] = [EID]
    assert "Net iD Enterprise is not installed" in evaluate_host("pc", [], raw)["problems"]


def test_host_without_facts_is_reported_not_dropped():
    entry = evaluate_host("pc-soder-03", ["unit_soder"], None)
    assert entry["compliant"] is False
    assert "no facts gathered" in entry["problems"][0]


def test_report_sorted_with_summary():
    report = build_report(
        [evaluate_host("b", [], raw_facts()), evaluate_host("a", [], None)],
        "2026-11-26T10:00:00+01:00",
    )
    assert [h["host"] for h in report["hosts"]] == ["a", "b"]
    assert report["summary"] == {"hosts": 2, "compliant": 1, "non_compliant": 1}
    assert report["generated"] == "2026-11-26T10:00:00+01:00"


# ----------------------------------------------------------------------------- Swedish by default


def test_compliance_sentences_are_swedish_by_default():
    raw = raw_facts()
    raw["client"]["installed"] = []
    raw["smartcard"]["readers"] = []
    raw["browser"]["pending"] = 1
    raw["reboot"] = {"pending": True, "reason": ""}
    entry = evaluate_host("pc", [], raw)
    assert "SITHS eID-app är inte installerad" in entry["problems"]
    assert "Ingen kortläsare är ansluten" in entry["problems"]
    assert any(p.startswith("1 webbläsarinställning avviker") for p in entry["problems"]), entry["problems"]
    assert any("omstart" in p for p in entry["problems"]), entry["problems"]
    with use_language("en"):
        assert "SITHS eID-app is not installed" in evaluate_host("pc", [], raw)["problems"]


def test_conflicts_services_and_decisions_are_swedish_by_default():
    [conflict] = client_conflicts([MD_EID, NETID], "siths_eid_app", "md")
    assert conflict["reason"] == "Net iD Enterprise får inte kombineras med MD-paketet av SITHS eID-appen"
    switch = install_decision([MD_EID], "siths_eid_app", "2.0.8481", "2.0.8481", "standard")
    assert "MD-paketet" in switch["reason"] and "avinstallera, starta om, installera" in switch["reason"]
    problems = service_problems(
        service_rules("siths_eid_app", md_package=True),
        {"SCardSvr": {"state": "stopped", "start_mode": "manual"}, "CertPropSvc": {"state": "started"}},
    )
    assert any(p.startswith("Tjänsten SCardSvr är stoppad men ska vara igång") for p in problems), problems
    assert any("Certifikatspridning" in p for p in problems), problems


def test_host_failures_are_swedish_by_default_and_english_on_request():
    assert host_failure("timed out", "unreachable") == "Datorn svarade inte (för IT: unreachable): timed out"
    with use_language("en"):
        assert host_failure("", "lost").startswith("the connection was lost during the run")
        assert host_failure("Install: failed (rc 1603)", "failed").endswith("(rc 1603)")
    with pytest.raises(ValueError, match="unknown host failure"):
        host_failure("", "gone")
