"""Recorded Windows hosts for playbooks/workstations.yml (a test of the roles' logic).

Builds an inventory whose hosts use the ``recorded_windows`` test connection, host states
(what is installed, which services run, which registry values and certificates exist), real
installer and CA files on the controller (so the pinned sha256 and thumbprints are the files'
own), runs the playbook, and reads back the module calls and workstations.json.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
CONNECTION_PLUGINS = Path(__file__).resolve().parent / "connection_plugins"

EDGE = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Edge"
CHROME = "HKLM:\\SOFTWARE\\Policies\\Google\\Chrome"
OWNED = "HKLM:\\SOFTWARE\\WebcertToolkit\\PolicyListEntries"
HSA3 = "SITHS e-id Person HSA-id 3 CA v1"
AUTO = '{"pattern":"https://idp.inera.se","filter":{"ISSUER":{"CN":"SITHS e-id Person HSA-id 3 CA v1"}}}'
WEBCERT = "https://wc2.webcert.intygstjanster.se"
IDP = "https://idp.inera.se"

EID_STANDARD = {
    "name": "SITHS eID-app för Windows",
    "version": "2.0.8481",
    "product_id": "{6F1D2B1A-0C3E-4B8E-9A51-0D2C9E4B8481}",
    "msi": True,
    "quiet_uninstall": False,
}
EID_MD = {
    "name": "SITHS eID-app för Windows MD",
    "version": "2.0.8481",
    "product_id": "{6F1D2B1A-0C3E-4B8E-9A51-0D2C9E4B8482}",
    "msi": True,
    "quiet_uninstall": False,
}
NETID = {
    "name": "Net iD Enterprise",
    "version": "6.8.2.14",
    "product_id": "Net iD Enterprise",
    "msi": False,
    "quiet_uninstall": False,
}
READER = "HID Global OMNIKEY 3x21 Smart Card Reader 0"


def ca_file(path: Path, cn: str, issuer_key=None, issuer_name=None) -> tuple[str, object, x509.Name]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(issuer_key or key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert.fingerprint(hashes.SHA1()).hex().upper(), key, name  # noqa: S303 - Windows thumbprint


class Fleet:
    """One test fleet in a temporary folder."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.states = tmp / "states"
        self.reports = tmp / "reports"
        self.inventory = tmp / "inventory"
        for d in (self.states, self.reports, self.inventory / "group_vars", tmp / "files"):
            d.mkdir(parents=True, exist_ok=True)
        root_thumb, root_key, root_name = ca_file(tmp / "files" / "root.pem", "SITHS e-id Root CA v2")
        issuing_thumb, _, _ = ca_file(tmp / "files" / "issuing.pem", HSA3, root_key, root_name)
        self.root_thumb, self.issuing_thumb = root_thumb, issuing_thumb
        self.installers = {}
        for name, content in (
            ("eid", b"SITHS eID-app 2.0.8481 standard"),
            ("eid_md", b"SITHS eID-app 2.0.8481 MD"),
            ("netid", b"Net iD Enterprise 6.8.2.14"),
        ):
            path = tmp / "files" / f"{name}.exe"
            path.write_bytes(content)
            self.installers[name] = {"src": str(path), "sha256": hashlib.sha256(content).hexdigest()}
        self.groups: dict[str, dict] = {}
        self.group_vars: dict[str, dict] = {}
        self.extra_vars: dict = {}

    # ------------------------------------------------------------------ inventory

    def installer(self, name: str, product: dict, **extra) -> dict:
        spec = {
            "src": self.installers[name]["src"],
            "sha256": self.installers[name]["sha256"],
            "product_id": product["product_id"],
            "version": product["version"],
            "arguments": "/quiet /norestart",
        }
        spec.update(extra)
        return spec

    def add(self, group: str, host: str, state: dict, **group_vars) -> None:
        self.groups.setdefault(group, {})[host] = {
            "ansible_connection": "recorded_windows",
            "ansible_host": host,
        }
        self.group_vars.setdefault(group, {}).update(group_vars)
        self.save(host, state)

    def write_inventory(self) -> None:
        inventory = {
            "all": {
                "children": {"workstations": {"children": {g: {"hosts": h} for g, h in self.groups.items()}}}
            }
        }
        (self.inventory / "hosts.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
        fleet_vars = {
            "workstation_client": "siths_eid_app",
            "workstation_allow_reboot": False,
            "workstation_reboot_window": "19:00-06:00",
            "workstation_installer_busy_delay": 0,
            "workstation_installer_reboot_delay": 0,
            "siths_eid_app_installer": self.installer("eid", EID_STANDARD),
            "siths_trust_root_certificates": [str(self.tmp / "files" / "root.pem")],
            "siths_trust_issuing_certificates": [str(self.tmp / "files" / "issuing.pem")],
        }
        (self.inventory / "group_vars" / "workstations.yml").write_text(
            yaml.safe_dump(fleet_vars), encoding="utf-8"
        )
        for group, values in self.group_vars.items():
            (self.inventory / "group_vars" / f"{group}.yml").write_text(
                yaml.safe_dump(values), encoding="utf-8"
            )

    # ------------------------------------------------------------------ host states

    def healthy(self, **change) -> dict:
        """A PC the toolkit already configured: standard eID-app, services, CAs, policies."""
        installers = {
            v["sha256"]: {"rc": 0, "installs": copy.deepcopy(p)}
            for v, p in (
                (self.installers["eid"], EID_STANDARD),
                (self.installers["eid_md"], EID_MD),
                (self.installers["netid"], NETID),
            )
        }
        state = {
            "clock": "21:30",
            "users": [],
            "boot_id": 1,
            "services": {
                "SCardSvr": {"state": "started", "start_mode": "auto"},
                "ScDeviceEnum": {"state": "started", "start_mode": "manual"},
                "CertPropSvc": {"state": "started", "start_mode": "manual"},
                "SCPolicySvc": {"state": "stopped", "start_mode": "manual"},
            },
            "products": [copy.deepcopy(EID_STANDARD)],
            "registry": {
                f"{EDGE}\\AutoSelectCertificateForUrls": {"1": AUTO},
                f"{CHROME}\\AutoSelectCertificateForUrls": {"1": AUTO},
                f"{EDGE}\\PopupsAllowedForUrls": {"1": WEBCERT, "2": IDP},
                f"{CHROME}\\PopupsAllowedForUrls": {"1": WEBCERT, "2": IDP},
                OWNED: {
                    f"{EDGE}\\AutoSelectCertificateForUrls": [AUTO],
                    f"{CHROME}\\AutoSelectCertificateForUrls": [AUTO],
                    f"{EDGE}\\PopupsAllowedForUrls": [WEBCERT, IDP],
                    f"{CHROME}\\PopupsAllowedForUrls": [WEBCERT, IDP],
                },
            },
            "certificates": {
                "Root": [{"thumbprint": self.root_thumb, "subject": "CN=SITHS e-id Root CA v2"}],
                "CertificateAuthority": [{"thumbprint": self.issuing_thumb, "subject": f"CN={HSA3}"}],
            },
            "cert_subjects": {
                self.root_thumb: "CN=SITHS e-id Root CA v2",
                self.issuing_thumb: f"CN={HSA3}",
            },
            "readers": [READER],
            "installers": installers,
            "faults": [],
        }
        state.update(change)
        return state

    def fresh(self, **change) -> dict:
        """A PC as delivered: no smart-card client, Smart Card service manual and stopped."""
        state = self.healthy()
        state["services"]["SCardSvr"] = {"state": "stopped", "start_mode": "manual"}
        state["products"] = []
        state["registry"] = {}
        state["certificates"] = {"Root": [], "CertificateAuthority": []}
        state.update(change)
        return state

    def save(self, host: str, state: dict) -> None:
        (self.states / f"{host}.json").write_text(json.dumps(state, indent=1), encoding="utf-8")

    def state(self, host: str) -> dict:
        return json.loads((self.states / f"{host}.json").read_text(encoding="utf-8"))

    def calls(self, host: str) -> list[dict]:
        log = self.states / f"{host}.calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    def clear_calls(self) -> None:
        for log in self.states.glob("*.calls.jsonl"):
            log.unlink()

    # ------------------------------------------------------------------ running

    def run(self, *args: str, check: bool = False, timeout: int = 600) -> subprocess.CompletedProcess:
        self.write_inventory()
        self.clear_calls()
        env = dict(
            os.environ,
            RECORDED_HOSTS_DIR=str(self.states),
            ANSIBLE_CONNECTION_PLUGINS=str(CONNECTION_PLUGINS),
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_HOME=str(ROOT / ".cache" / "ansible"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_STDOUT_CALLBACK="default",
            ANSIBLE_CALLBACK_RESULT_FORMAT="json",
            # One worker per host: a task of the fleet is one round, not two.
            ANSIBLE_FORKS=str(max(5, sum(len(h) for h in self.groups.values()))),
        )
        command = [
            PLAYBOOK,
            "-i",
            str(self.inventory / "hosts.yml"),
            str(ROOT / "playbooks" / "workstations.yml"),
            "-e",
            json.dumps({"hsa_report_dir": str(self.reports), **self.extra_vars}),
            *args,
        ]
        if check:
            command.append("--check")
        # Own process group, so a run that times out takes its forked workers with it.
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            raise AssertionError(
                f"ansible-playbook did not finish in {timeout} s:\n{stdout[-3000:]}"
            ) from None
        return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)

    def report(self) -> dict:
        data = json.loads((self.reports / "workstations.json").read_text(encoding="utf-8"))
        return {h["host"]: h for h in data["hosts"]}


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counts per host."""
    out = {}
    lines = stdout.split("PLAY RECAP", 1)[-1].splitlines()
    for line in lines:
        if ":" not in line or "=" not in line:
            continue
        host, counts = line.split(":", 1)
        out[host.strip()] = {k: int(v) for k, v in (p.split("=") for p in counts.split())}
    return out


def module_calls(calls: list[dict], module: str, **match) -> list[dict]:
    return [
        c for c in calls if c["module"] == module and all(c["args"].get(k) == v for k, v in match.items())
    ]
