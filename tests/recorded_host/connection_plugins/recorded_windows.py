"""A test connection that plays a Windows host from a recorded state (tests only).

Ansible builds each ansible.windows module call exactly as for a real PC (the PowerShell
exec-wrapper manifest); this connection reads the module name and arguments out of that
manifest, checks the arguments against the module's documented options in the installed
collection, answers from a JSON description of the host, shaped by tests/windows_contract.py
(which reads each module's .ps1 and RETURN), and logs every call. It also plays the
PowerShell commands of win_reboot (boot time, shutdown, test command).

It tests the roles' logic, not Windows: nothing here runs PowerShell.

Host state: ``$RECORDED_HOSTS_DIR/<ansible_host>.json``; call log: ``<ansible_host>.calls.jsonl``.
Faults (``faults`` in the state): ``{"kind": "unreachable"}`` (every call),
``{"kind": "connection_lost", "module": "win_regedit", "after": 2}`` (the 3rd such call and
every later call of the run fail), ``{"kind": "hang", "module": "win_package", "seconds": 8}``.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import hashlib
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import windows_contract as contract

DOCUMENTATION = """
name: recorded_windows
short_description: Answers ansible.windows modules from a recorded host state (tests only)
description:
  - Reads the module name and arguments from the PowerShell exec-wrapper manifest and answers
    from a JSON host description, with responses shaped like the real modules' RETURN.
author: Webcert onboarding toolkit
options:
  host:
    description: The host name; selects the state file.
    vars:
      - name: ansible_host
      - name: inventory_hostname
"""

_COMMON = {"_ansible_check_mode", "_ansible_diff"}
_INTERNAL = re.compile(r"^_ansible_")
_PRIVATE = re.compile(r"^_")


class ModuleFailure(Exception):
    def __init__(self, msg: str, **extra):
        super().__init__(msg)
        self.result = {"failed": True, "changed": False, "msg": msg, **extra}

    @classmethod
    def from_result(cls, result: dict) -> ModuleFailure:
        failure = cls(result["msg"])
        failure.result = dict(result)
        return failure


class Host:
    """The recorded host: state on disk, loaded and saved around each call."""

    def __init__(self, name: str):
        root = Path(os.environ["RECORDED_HOSTS_DIR"])
        self.path = root / f"{name}.json"
        self.log = root / f"{name}.calls.jsonl"
        self.lock = root / f"{name}.lock"

    def __enter__(self):
        self._lock = open(self.lock, "w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.state = json.loads(self.path.read_text(encoding="utf-8"))
        return self

    def __exit__(self, *exc):
        self.path.write_text(json.dumps(self.state, indent=1), encoding="utf-8")
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def record(self, entry: dict) -> None:
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


def _check_args(module: str, args: dict) -> None:
    """Refuse arguments the real module would refuse (unknown options, bad choices)."""
    try:
        options = contract.module_options(module)
    except (FileNotFoundError, KeyError):
        return
    aliases = {a for spec in options.values() for a in spec.get("aliases", [])}
    source = contract.module_source(module)
    # Modules on Ansible.Basic refuse unknown options; legacy ones (Get-AnsibleParam) ignore them.
    strict = "AnsibleModule]::Create" in source
    for key, value in args.items():
        if _PRIVATE.match(key):  # the action plugins' own private options (win_copy's _copy_mode)
            continue
        # Documented options, or undocumented ones in the module's own argument spec (.ps1).
        in_spec = re.search(rf"\b{re.escape(key)}\s*=\s*@\{{", source) or re.search(
            rf'-name\s+"{re.escape(key)}"', source
        )
        if strict and key not in options and key not in aliases and not in_spec:
            raise ModuleFailure(f"Unsupported parameters for ({module}) module: {key}")
        choices = options.get(key, {}).get("choices")
        if choices and value is not None and not isinstance(value, list) and value not in choices:
            raise ModuleFailure(
                f"value of {key} must be one of: {', '.join(map(str, choices))}, got: {value}"
            )


def _key(registry: dict, path: str) -> str | None:
    return next((k for k in registry if k.lower() == path.lower()), None)


class Modules:
    """One method per ansible.windows module the roles call."""

    def __init__(self, host: Host, check: bool, diff: bool):
        self.host = host
        self.state = host.state
        self.check = check
        self.diff = diff

    def win_ping(self, args):
        return {"changed": False, "ping": "pong"}

    # ------------------------------------------------------------------ registry
    def win_reg_stat(self, args):
        registry = self.state.setdefault("registry", {})
        key = _key(registry, args["path"])
        values = registry.get(key) if key else None
        if args.get("name"):
            if values is None or args["name"] not in values:
                return contract.reg_stat_value(None)
            value = values[args["name"]]
            return contract.reg_stat_value(_reg_of(value), value)
        if values is None:
            return contract.reg_stat_key(None)
        return contract.reg_stat_key({n: (_reg_of(v), v) for n, v in values.items()})

    def win_regedit(self, args):
        registry = self.state.setdefault("registry", {})
        path, name, state = args["path"], args.get("name"), args.get("state", "present")
        key = _key(registry, path) or path
        values = registry.get(key)
        before = None if values is None else values.get(name)
        if state == "present":
            data = args.get("data")
            if args.get("type") == "dword":
                data = int(data)
            contract.reg_type(args.get("type", "string"))
            changed = values is None or name not in values or before != data
            if changed and not self.check:
                registry.setdefault(key, {})[name] = data
        else:
            changed = values is not None and name in values
            if changed and not self.check:
                del registry[key][name]
        result = {
            "changed": changed,
            "data_changed": changed and state == "present",
            "data_type_changed": False,
        }
        if self.diff and changed:
            result["diff"] = {
                "before": f"{name} = {before!r}\n" if before is not None else "",
                "after": f"{name} = {args.get('data')!r}\n" if state == "present" else "",
            }
        return result

    # ------------------------------------------------------------------ services
    def win_service_info(self, args):
        services = self.state.get("services", {})
        name = args.get("name")
        rows = [
            contract.service_row(n, s["state"], s["start_mode"])
            for n, s in services.items()
            if name is None or n.lower() == name.lower()
        ]
        return contract.service_info_result(rows)

    def win_service(self, args):
        services = self.state.setdefault("services", {})
        name = next((n for n in services if n.lower() == args["name"].lower()), None)
        if name is None:
            raise ModuleFailure(
                f"Service '{args['name']}' is not installed, need to set 'path' to create a new service"
            )
        svc = services[name]
        want = dict(svc)
        if args.get("start_mode"):
            want["start_mode"] = args["start_mode"]
        if args.get("state") in ("started", "stopped"):
            want["state"] = args["state"]
        changed = want != svc
        if changed and not self.check:
            services[name] = want
        return {
            "changed": changed,
            "exists": True,
            "name": name,
            **{k: want[k] for k in ("state", "start_mode")},
        }

    # ------------------------------------------------------------------ files and packages
    def win_file(self, args):
        dirs = self.state.setdefault("dirs", [])
        changed = args["path"].lower() not in [d.lower() for d in dirs]
        if changed and not self.check:
            dirs.append(args["path"])
        return {"changed": changed}

    def win_copy(self, args):
        """The module side of win_copy's action plugin: query, single file, zip explode."""
        files = self.state.setdefault("files", {})
        uploads = self.state.setdefault("uploads", {})
        mode = args.get("_copy_mode")
        dest = args["dest"]
        if mode == "query":
            wanted = args.get("files") or []
            single = len(wanted) == 1 and not args.get("directories") and not dest.endswith("\\")
            todo = []
            for f in wanted:
                target = dest if single else dest.rstrip("\\") + "\\" + f["dest"].replace("/", "\\")
                if (files.get(target.lower()) or {}).get("sha1") != f.get("checksum"):
                    todo.append({"src": f["src"], "dest": target, "checksum": f.get("checksum")})
            dirs = [] if not todo or single else list(args.get("directories") or [])
            return {"changed": False, "files": todo, "directories": dirs, "symlinks": []}
        if self.check:
            return {"changed": True, "dest": dest}
        upload = uploads.get(args["src"].lower(), {})
        if mode == "explode":
            for member, sha in (upload.get("zip") or {}).items():
                target = dest.rstrip("\\") + "\\" + member.replace("/", "\\")
                files[target.lower()] = {"sha1": upload.get("zip_sha1", {}).get(member), "sha256": sha}
            return {"changed": True, "dest": dest, "operation": "folder_copy"}
        files[dest.lower()] = {
            "sha1": args.get("checksum") or upload.get("sha1"),
            "sha256": upload.get("sha256"),
        }
        return {"changed": True, "dest": dest, "checksum": upload.get("sha1"), "operation": "file_copy"}

    def win_get_url(self, args):
        files = self.state.setdefault("files", {})
        sha = (args.get("checksum") or "").lower()
        changed = (files.get(args["dest"].lower()) or {}).get("sha256") != sha
        if changed and not self.check:
            files[args["dest"].lower()] = {"sha256": sha}
        return {"changed": changed, "dest": args["dest"], "status_code": 200, "url": args["url"]}

    def win_stat(self, args):
        entry = self.state.get("files", {}).get(args["path"].lower())
        if entry is None:
            return {"changed": False, "stat": {"exists": False}}
        stat = {"exists": True, "path": args["path"], "isdir": False}
        if args.get("get_checksum", True):
            stat["checksum"] = entry.get(args.get("checksum_algorithm", "sha1"))
        return {"changed": False, "stat": stat}

    def win_package(self, args):
        products = self.state.setdefault("products", [])
        state = args.get("state", "present")
        expected = args.get("expected_return_code") or [0, 3010]
        if state == "absent":
            found = [p for p in products if p["product_id"] == args["product_id"]]
            if not found:
                return contract.package_result(None, changed=False)
            spec = self.state.get("uninstallers", {}).get(args["product_id"], {"rc": 0})
            if not found[0].get("msi") and not found[0].get("quiet_uninstall") and not args.get("arguments"):
                self._hang(spec.get("dialog_seconds", 3600))
            if self.check:
                return contract.package_result(None, changed=True)
            rc = spec.get("rc", 0)
            if rc not in expected:
                raise ModuleFailure.from_result(contract.package_failure(rc))
            products[:] = [p for p in products if p["product_id"] != args["product_id"]]
            if rc == 1641:
                self.state["boot_id"] = self.state.get("boot_id", 1) + 1
            return contract.package_result(rc)
        installer = self._installer(args)
        if args.get("product_id") and any(p["product_id"] == args["product_id"] for p in products):
            return contract.package_result(None, changed=False)
        if self.check:
            return contract.package_result(None, changed=True)
        sequence = installer.setdefault("rc_sequence", [installer.get("rc", 0)])
        rc = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        if rc not in expected:
            raise ModuleFailure.from_result(contract.package_failure(rc))
        installs = installer.get("installs")
        if installs:
            replaces = installer.get("replaces_family")
            products[:] = [p for p in products if not (replaces and re.search(replaces, p["name"], re.I))]
            products.append(installs)
        if rc == 1641:
            self.state["boot_id"] = self.state.get("boot_id", 1) + 1
        if rc == 3010:
            self.state["reboot_pending"] = True
        return contract.package_result(rc)

    def _installer(self, args):
        installers = self.state.get("installers", {})
        sha = (args.get("checksum") or "").lower()
        if sha not in installers:
            raise ModuleFailure(f"the recorded host has no installer with sha256 {sha}")
        return installers[sha]

    def _hang(self, seconds):
        time.sleep(seconds)

    # ------------------------------------------------------------------ certificates
    def win_certificate_info(self, args):
        rows = [
            contract.certificate_row(c["thumbprint"], c["subject"])
            for c in self.state.get("certificates", {}).get(args.get("store_name", "My"), [])
        ]
        return contract.certificate_info_result(rows)

    def win_certificate_store(self, args):
        stores = self.state.setdefault("certificates", {})
        store = stores.setdefault(args.get("store_name", "My"), [])
        if args.get("state") == "absent":
            before = len(store)
            if not self.check:
                store[:] = [c for c in store if c["thumbprint"].upper() != args["thumbprint"].upper()]
            return {
                "changed": before
                != len([c for c in store if c["thumbprint"].upper() != args["thumbprint"].upper()])
                or self.check,
                "thumbprints": [args["thumbprint"]],
            }
        leaf = args.get("path", "").replace("/", "\\").rsplit("\\", 1)[-1]
        thumb = leaf.rsplit(".", 1)[0].upper() if args.get("path") else args["thumbprint"].upper()
        changed = all(c["thumbprint"].upper() != thumb for c in store)
        if changed and not self.check:
            store.append(
                {
                    "thumbprint": thumb,
                    "subject": self.state.get("cert_subjects", {}).get(thumb, f"CN={thumb}"),
                }
            )
        return {"changed": changed, "thumbprints": [thumb]}

    # ------------------------------------------------------------------ PowerShell scripts
    def win_powershell(self, args):
        script = args.get("script") or ""
        params = args.get("parameters") or {}
        if "Programs-and-Features" in script:
            rx = re.compile(params.get("Pattern", "."), re.IGNORECASE)
            rows = [dict(p) for p in self.state.get("products", []) if rx.search(p["name"])]
            return contract.powershell_result(rows)
        if "Get-AuthenticodeSignature" in script:
            return contract.powershell_result(
                [self.state.get("signature", {"status": "Valid", "subject": "CN=Inera AB"})]
            )
        if "explorer.exe" in script:
            return contract.powershell_result(
                [
                    {
                        "now": self.state.get("clock", "21:00"),
                        "users": self.state.get("users", []),
                        "pending": bool(self.state.get("reboot_pending")),
                    }
                ]
            )
        if "SmartCardReader" in script:
            return contract.powershell_result(list(self.state.get("readers", [])))
        if "pnputil" in script:
            return self._pnputil(params["Inf"])
        raise ModuleFailure(f"the recorded host does not know this script: {script[:80]!r}")

    def _pnputil(self, inf):
        store = self.state.setdefault("driver_store", [])
        drivers = self.state.get("drivers", {})
        name = inf.replace("/", "\\").rsplit("\\", 1)[-1]
        wanted = drivers.get(name, {}).get("version", "1.0")
        present = [d["version"] for d in store if d["inf"].lower() == name.lower()]
        if present and max(present, key=_ver) >= wanted:
            return contract.powershell_result(
                [], {"inf": name, "note": "the driver store already holds this driver"}
            )
        rc = drivers.get(name, {}).get("rc", 0)
        if self.check:
            return contract.powershell_result([], {"inf": name}, changed=True)
        if rc not in (0, 259, 3010):
            raise ModuleFailure(f"pnputil /add-driver {inf} failed with exit code {rc}")
        store.append({"inf": name, "version": wanted})
        return contract.powershell_result(
            [], {"inf": name, "rc": rc, "reboot_required": rc == 3010}, changed=True
        )


def _ver(text):
    return tuple(int(p) for p in str(text).split("."))


def _reg_of(value):
    if isinstance(value, list):
        return "REG_MULTI_SZ"
    if isinstance(value, int):
        return "REG_DWORD"
    return "REG_SZ"


class Connection(ConnectionBase):
    transport = "recorded_windows"
    module_implementation_preferences = (".ps1", ".exe", "")
    allow_executable = False
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        self.always_pipeline_modules = True
        self.has_native_async = True
        self._shell_type = "powershell"
        super().__init__(*args, **kwargs)

    def _connect(self):
        self._connected = True
        return self

    def _name(self):
        return self.get_option("host") or self._play_context.remote_addr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        with Host(self._name()) as host:
            self._faults(host, None)
            if in_data:
                return self._module(host, in_data)
            return self._command(host, cmd)

    def _faults(self, host, module):
        state = host.state
        for fault in state.get("faults", []):
            kind = fault["kind"]
            if kind == "unreachable":
                raise AnsibleConnectionFailure("recorded host: no answer (connection refused)")
            if kind == "connection_lost" and fault.get("tripped"):
                raise AnsibleConnectionFailure("recorded host: the WinRM connection was lost")
            if module is None or fault.get("module") != module:
                continue
            fault["seen"] = fault.get("seen", 0) + 1
            if kind == "connection_lost" and fault["seen"] > fault.get("after", 0):
                fault["tripped"] = True
                raise AnsibleConnectionFailure("recorded host: the WinRM connection was lost")
            if kind == "hang" and fault["seen"] > fault.get("after", 0):
                # The task's timeout interrupts this sleep; the state is saved on the way out.
                time.sleep(fault.get("seconds", 10))
                raise AnsibleConnectionFailure("recorded host: still hanging")

    def _module(self, host, in_data):
        manifest = json.loads(in_data.split(b"\n\0\0\0\0\n")[1])
        action = next((a for a in manifest["actions"] if a["name"] == "module_wrapper.ps1"), None)
        if action is None:
            # ansible-core's own helper scripts (temporary folder for win_copy).
            script = manifest["actions"][-1]
            if script["name"] == "powershell_mkdtemp.ps1":
                path = "C:\\Windows\\TEMP\\" + script["params"]["Name"]
                return 0, path.encode(), b""
            return 0, b"", b""
        script = action["params"]["Script"]
        module = script.rsplit(".", 2)[-2]
        args = next(v["Value"] for v in action["params"]["Variables"] if v["Name"] == "complex_args")
        check = bool(args.get("_ansible_check_mode"))
        public = {k: v for k, v in args.items() if not _INTERNAL.match(k)}
        host.record({"module": module, "args": public, "check_mode": check})
        self._faults(host, module)
        handler = getattr(Modules(host, check, bool(args.get("_ansible_diff"))), module, None)
        try:
            if handler is None:
                raise ModuleFailure(f"the recorded host does not play {module}")
            _check_args(module, public)
            result = handler(copy.deepcopy(public))
        except ModuleFailure as exc:
            result = exc.result
        return 0, json.dumps(result).encode(), b""

    def _command(self, host, cmd):
        match = re.search(r"-EncodedCommand (\S+)", cmd)
        text = base64.b64decode(match.group(1)).decode("utf-16-le") if match else cmd
        state = host.state
        if "LastBootUpTime" in text or ("boot" in text.lower() and "time" in text.lower()):
            return 0, str(state.get("boot_id", 1)).encode(), b""
        if "shutdown" in text.lower():
            host.record({"module": "shutdown", "args": {"command": text[:300]}, "check_mode": False})
            state["boot_id"] = state.get("boot_id", 1) + 1
            state["reboot_pending"] = False
            state.setdefault("reboots", []).append(text[:300])
            return 0, b"", b""
        if "AutoLogonChecked" in text:
            # win_reboot's test command: LogonUI creates this key when the logon prompt is up;
            # the command then echoes its marker string.
            marker = re.search(r"'(success-[0-9a-f-]+)'", text)
            return 0, (marker.group(1) if marker else "").encode(), b""
        if "ansible-tmp-" in text and "Remove-Item" in text:
            return 0, b"", b""  # ansible-core removing its temporary folder
        host.record({"module": "command", "args": {"command": text[:120]}, "check_mode": False})
        return 0, b"ok", b""

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        data = Path(in_path).read_bytes()
        upload = {"sha256": hashlib.sha256(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest()}  # noqa: S324
        if zipfile.is_zipfile(in_path):
            with zipfile.ZipFile(in_path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                upload["zip"] = {n: hashlib.sha256(archive.read(n)).hexdigest() for n in names}
                upload["zip_sha1"] = {n: hashlib.sha1(archive.read(n)).hexdigest() for n in names}  # noqa: S324
        with Host(self._name()) as host:
            host.state.setdefault("uploads", {})[out_path.lower()] = upload

    def fetch_file(self, in_path, out_path):
        raise AnsibleConnectionFailure("the recorded host does not serve files")

    def close(self):
        self._connected = False
