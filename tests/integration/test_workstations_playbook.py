"""playbooks/workstations.yml: syntax, controller-side validation and the compliance summary.

No Windows host exists here. The fleet in these tests points at a closed port on
127.0.0.1, so every Windows task is unreachable; what runs for real is everything the
controller does: argument specs, installer pinning, browser-policy rendering, CA
fingerprinting, the rescue/report logic and the JSON summary.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from siths_testpki import ca_certificate, make_name, new_key, pem_of

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
SHA = "ab" * 32


def run(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PLAYBOOK, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False
    )


def root_ca_pem(path: Path) -> None:
    key = new_key()
    now = dt.datetime.now(dt.UTC)
    cert = ca_certificate(make_name("SITHS e-id Root CA v2"), key, not_before=now,
                          not_after=now + dt.timedelta(days=30))
    path.write_bytes(pem_of(cert))


def fleet(tmp_path: Path, **unit_norr_vars) -> Path:
    ca = tmp_path / "root.pem"
    root_ca_pem(ca)
    host = {
        "ansible_host": "127.0.0.1",
        "ansible_port": 1,
        "ansible_connection": "winrm",
        "ansible_winrm_scheme": "https",
        "ansible_winrm_transport": "ntlm",
        "ansible_winrm_message_encryption": "always",
        "ansible_user": "lab",
        "ansible_password": "lab",
    }
    installer = {
        "path": "\\\\fs\\SITHS.exe",
        "sha256": SHA,
        "product_id": "SITHS",
        "version": "2.0.8481",
    }
    inventory = {
        "all": {
            "vars": {"siths_trust_root_certificates": [str(ca)]},
            "children": {
                "workstations": {
                    "children": {
                        "unit_norr": {
                            "hosts": {"pc-norr-01": dict(host)},
                            "vars": {"siths_eid_app_installer": installer, **unit_norr_vars},
                        },
                        "unit_tandvard": {
                            "hosts": {"pc-tand-01": dict(host)},
                            "vars": {"workstation_client": "netid_enterprise"},
                        },
                    }
                }
            },
        }
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def test_syntax_check_with_the_example_inventory():
    result = run(
        "-i", "inventories/example/hosts.yml", "playbooks/workstations.yml", "--syntax-check"
    )
    assert result.returncode == 0, result.stderr


def test_check_run_writes_a_summary_for_every_host_even_when_unreachable(tmp_path):
    report_dir = tmp_path / "reports"
    result = run(
        "-i",
        str(fleet(tmp_path)),
        "playbooks/workstations.yml",
        "--check",
        "--diff",
        "-e",
        f"hsa_report_dir={report_dir}",
        "-e",
        "workstation_max_fail_percentage=100",
    )
    # Unreachable hosts are reported, and the run fails so the operator notices.
    assert result.returncode != 0
    report = json.loads((report_dir / "workstations.json").read_text())
    assert dt.datetime.fromisoformat(report["generated"])
    assert [h["host"] for h in report["hosts"]] == ["pc-norr-01", "pc-tand-01"]
    norr = report["hosts"][0]
    assert norr["groups"] == ["unit_norr", "workstations"]
    assert norr["compliant"] is False
    assert norr["problems"][0].startswith("Datorn svarade inte (för IT: unreachable):")
    assert set(norr) >= {
        "host",
        "groups",
        "compliant",
        "client",
        "client_version",
        "services",
        "readers",
        "reboot_required",
        "problems",
    }
    assert report["summary"] == {"hosts": 2, "compliant": 0, "non_compliant": 2}
    assert "Datorer som behöver åtgärdas (se workstations.json)" in result.stdout


def test_rollout_stops_after_a_failed_batch_but_still_reports(tmp_path):
    report_dir = tmp_path / "reports"
    result = run(
        "-i",
        str(fleet(tmp_path)),
        "playbooks/workstations.yml",
        "--check",
        "-e",
        f"hsa_report_dir={report_dir}",
        "-e",
        "workstation_serial=1",
    )
    assert result.returncode != 0
    assert "utrullningen stoppas här" in result.stdout
    hosts = {
        h["host"]: h for h in json.loads((report_dir / "workstations.json").read_text())["hosts"]
    }
    assert hosts["pc-norr-01"]["problems"][0].startswith("Datorn svarade inte (för IT: unreachable):")
    # The second batch never ran; the host is still listed (in Swedish, the default).
    assert hosts["pc-tand-01"]["problems"] == [
        "Inga uppgifter insamlade: datorn svarade inte, körningen misslyckades eller datorn nåddes"
        " inte i den här körningen"
    ]


@pytest.mark.parametrize(
    ("unit_vars", "message"),
    [
        (
            {
                "siths_eid_app_installer": {
                    "path": "\\\\fs\\SITHS.exe",
                    "product_id": "S",
                    "version": "2.0.8481",
                }
            },
            "siths_eid_app_installer.sha256: krävs: installationsfilens SHA-256",
        ),
        (
            {"webcert_browser_popup_hosts": ["http://wc2.webcert.intygstjanster.se"]},
            "uses plain http",
        ),
        ({"smartcard_certprop": "sometimes"}, "smartcard_certprop"),
        ({"workstation_client": "bankid"}, "workstation_client är bankid; det ska vara"),
    ],
)
def test_bad_settings_fail_on_the_controller_before_any_host_is_touched(
    tmp_path, unit_vars, message
):
    report_dir = tmp_path / "reports"
    result = run(
        "-i",
        str(fleet(tmp_path, **unit_vars)),
        "playbooks/workstations.yml",
        "-e",
        f"hsa_report_dir={report_dir}",
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in out
    # Nothing went to a host: the configure play never started and no report was written.
    assert "Check that the host answers over WinRM" not in out
    assert not (report_dir / "workstations.json").exists()
