"""Acceptance checks of a Windows workstation over WinRM (pytest-testinfra).

The verifier of the Molecule ``windows`` scenario, and the pilot PC's acceptance test:

    export MOLECULE_WINDOWS_HOST=pc-norr-01.clinic.example.se MOLECULE_WINDOWS_USER=... \\
           MOLECULE_WINDOWS_PASSWORD=... MOLECULE_WINDOWS_CA=/path/winrm-ca.pem
    .venv/bin/pytest molecule/windows/tests -v

What the PC must show (each check reads Windows itself, with PowerShell, not the toolkit):
SCardSvr automatic (and running while a reader is connected), CertPropSvc disabled for the MD
package, the Edge/Chrome policy values, a foreign list entry kept, the card-removal option,
and — when asked with PILOT_EXPECT_CLIENT / PILOT_EXPECT_SITHS_CAS — the installed eID-app
version and the SITHS CAs in LocalMachine\\Root and LocalMachine\\CA.

Without MOLECULE_WINDOWS_HOST every test is skipped.
"""

from __future__ import annotations

import base64
import json
import os
from urllib.parse import quote

import pytest

HOST = os.environ.get("MOLECULE_WINDOWS_HOST", "")
pytestmark = pytest.mark.skipif(not HOST, reason="MOLECULE_WINDOWS_HOST is not set (no lab VM or pilot PC)")

EDGE = r"HKLM:\SOFTWARE\Policies\Microsoft\Edge"
CHROME = r"HKLM:\SOFTWARE\Policies\Google\Chrome"
ISSUER = os.environ.get("PILOT_ISSUER_CN", "SITHS e-id Person HSA-id 3 CA v1")
IDP = os.environ.get("PILOT_IDP", "https://idp.inera.se")
WEBCERT = os.environ.get("PILOT_WEBCERT", "https://wc2.webcert.intygstjanster.se")
AUTO = json.dumps({"pattern": IDP, "filter": {"ISSUER": {"CN": ISSUER}}}, separators=(",", ":"))


@pytest.fixture(scope="module")
def pc():
    import testinfra

    if os.environ.get("MOLECULE_WINDOWS_CA"):
        # pywinrm trusts the CA bundle named by REQUESTS_CA_BUNDLE.
        os.environ["REQUESTS_CA_BUNDLE"] = os.environ["MOLECULE_WINDOWS_CA"]
    user = quote(os.environ.get("MOLECULE_WINDOWS_USER", ""), safe="")
    password = quote(os.environ.get("MOLECULE_WINDOWS_PASSWORD", ""), safe="")
    no_verify = os.environ.get("MOLECULE_WINDOWS_CERT_VALIDATION", "validate") == "ignore"
    spec = f"winrm://{user}:{password}@{HOST}:5986?no_verify_ssl={str(no_verify).lower()}"
    return testinfra.get_host(spec)


SERVICE = (
    "Get-Service {} | ForEach-Object {{ @{{ status = [string]$_.Status; start = [string]$_.StartType }} }}"
)
UNINSTALL = (
    r"Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',"
    r"'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'"
    r" -ErrorAction SilentlyContinue | Where-Object DisplayName -match 'SITHS ?e-?ID' |"
    r" ForEach-Object { @{ n = [string]$_.DisplayName; v = [string]$_.DisplayVersion } }"
)


def ps(pc, script: str):
    """Run PowerShell on the PC and return its JSON output, parsed."""
    wrapped = (
        f"$ProgressPreference='SilentlyContinue'; ConvertTo-Json -Compress -Depth 5 -InputObject @({script})"
    )
    encoded = base64.b64encode(wrapped.encode("utf-16-le")).decode()
    result = pc.run(f"powershell -NoProfile -NonInteractive -EncodedCommand {encoded}")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout or "[]")


def values(pc, key: str) -> dict:
    rows = ps(
        pc,
        f"$k = Get-Item -LiteralPath '{key}' -ErrorAction SilentlyContinue; "
        "if ($k) { $k.GetValueNames() | ForEach-Object { @{ n = $_; v = [string]$k.GetValue($_) } } }",
    )
    return {r["n"]: r["v"] for r in rows}


def test_smart_card_service_is_automatic_and_runs_with_a_reader(pc):
    [svc] = ps(pc, SERVICE.format("SCardSvr"))
    assert svc["start"] == "Automatic"
    readers = ps(
        pc,
        "Get-PnpDevice -Class SmartCardReader -PresentOnly -ErrorAction SilentlyContinue | "
        "Where-Object Status -eq 'OK' | ForEach-Object { [string]$_.FriendlyName }",
    )
    if readers:
        assert svc["status"] == "Running"


def test_certificate_propagation_follows_the_package(pc):
    [svc] = ps(pc, SERVICE.format("CertPropSvc"))
    if os.environ.get("PILOT_PACKAGE_TYPE", "standard") == "md":
        assert svc == {"status": "Stopped", "start": "Disabled"}


def test_browser_policies_hold_the_toolkit_entries(pc):
    for root in (EDGE, CHROME):
        if root == CHROME and os.environ.get("PILOT_BROWSERS", "edge,chrome").find("chrome") < 0:
            continue
        assert AUTO in values(pc, root + r"\AutoSelectCertificateForUrls").values()
        assert {WEBCERT, IDP} <= set(values(pc, root + r"\PopupsAllowedForUrls").values())


def test_foreign_list_entry_survives(pc):
    popups = values(pc, EDGE + r"\PopupsAllowedForUrls")
    planted = os.environ.get("PILOT_FOREIGN_POPUP", "https://intranet.clinic.example.se")
    if "9" not in popups and planted not in popups.values():
        pytest.skip("no foreign entry planted on this PC (molecule prepare plants one as value 9)")
    assert planted in popups.values()


def test_card_removal_option(pc):
    if os.environ.get("PILOT_LOCK_ON_REMOVAL", "1") != "1":
        pytest.skip("card-removal lock not configured for this PC")
    winlogon = values(pc, r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon")
    assert winlogon.get("ScRemoveOption") == "1"
    [svc] = ps(pc, SERVICE.format("SCPolicySvc"))
    assert svc == {"status": "Running", "start": "Automatic"}


def test_installed_smart_card_client(pc):
    if os.environ.get("PILOT_EXPECT_CLIENT") != "1":
        pytest.skip("set PILOT_EXPECT_CLIENT=1 where an installer was supplied")
    rows = ps(pc, UNINSTALL)
    assert rows, "no SITHS eID-app in Programs and Features"
    minimum = tuple(int(p) for p in os.environ.get("PILOT_MIN_VERSION", "2.0.8481").split("."))
    assert max(tuple(int(p) for p in r["v"].split(".")) for r in rows) >= minimum


def test_siths_cas_are_trusted(pc):
    if os.environ.get("PILOT_EXPECT_SITHS_CAS") != "1":
        pytest.skip("set PILOT_EXPECT_SITHS_CAS=1 where CA files were supplied")
    roots = ps(pc, r"Get-ChildItem Cert:\LocalMachine\Root | ForEach-Object { $_.Subject }")
    cas = ps(pc, r"Get-ChildItem Cert:\LocalMachine\CA | ForEach-Object { $_.Subject }")
    assert any("SITHS e-id Root CA v2" in s for s in roots)
    assert any(ISSUER in s for s in cas)
