"""What the ansible.windows modules really return, read from the installed collection.

Every stand-in answer of a Windows module in the tests is built here, from the module's
own PowerShell source and its documented RETURN in the installed ``ansible.windows``
(``.venv/lib/python3.11/site-packages/ansible_collections/ansible/windows``), never from
memory. The builders refuse values the module cannot return, so a fixture cannot drift
from the real module: ``service_row("SCardSvr", "running", "auto")`` raises, because
win_service_info.ps1 maps a running service to ``started``.

tests/unit/test_windows_module_contract.py checks the controller code against the same
readings.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from functools import cache
from pathlib import Path

import yaml

# libyaml's loader where PyYAML has it: the recorded hosts parse a module's documentation in
# every Ansible worker process (one per task and host); the pure-Python loader is ten times slower.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def collection_dir() -> Path:
    spec = importlib.util.find_spec("ansible_collections.ansible.windows")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("ansible.windows is not installed (it comes with the ansible package)")
    return Path(next(iter(spec.submodule_search_locations)))


def module_path(name: str, ext: str) -> Path:
    return collection_dir() / "plugins" / "modules" / f"{name}.{ext}"


@cache
def module_source(name: str) -> str:
    """The module's PowerShell implementation."""
    return module_path(name, "ps1").read_text(encoding="utf-8-sig")


@cache
def _doc_strings(name: str) -> dict[str, str]:
    tree = ast.parse(module_path(name, "py").read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


@cache
def module_return(name: str) -> dict:
    """The module's documented RETURN, parsed."""
    return yaml.load(_doc_strings(name)["RETURN"], Loader=_LOADER) or {}  # noqa: S506 - a safe loader


@cache
def module_options(name: str) -> dict:
    return yaml.load(_doc_strings(name)["DOCUMENTATION"], Loader=_LOADER)["options"]  # noqa: S506 - a safe loader


def switch_values(source: str, variable: str) -> tuple[str, ...]:
    """The string results of ``$variable = switch (...) { Case { 'value' } ... }``."""
    match = re.search(re.escape(variable) + r"\s*=\s*switch\s*\([^)]*\)\s*\{", source)
    if not match:
        raise LookupError(f"no switch assigning {variable}")
    depth, i = 1, match.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        i += 1
    body = source[match.end() : i - 1]
    return tuple(re.findall(r"\{\s*'([^']*)'\s*\}", body))


def ordered_keys(source: str, after: str) -> tuple[str, ...]:
    """Keys of the first ``[Ordered]@{ key = ... }`` literal after the text ``after``."""
    start = source.index("[Ordered]@{", source.index(after))
    depth, i = 0, start + len("[Ordered]@")
    keys = []
    line_start = i
    while True:
        ch = source[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        elif ch == "\n":
            line = source[line_start:i]
            if depth == 1:
                m = re.match(r"\s*([a-z_0-9]+)\s*=", line)
                if m:
                    keys.append(m.group(1))
            line_start = i + 1
        i += 1
    return tuple(keys)


# --------------------------------------------------------------------------- services


@cache
def service_states() -> tuple[str, ...]:
    return switch_values(module_source("win_service_info"), "$state")


@cache
def service_start_modes() -> tuple[str, ...]:
    return switch_values(module_source("win_service_info"), "$startType")


@cache
def service_keys() -> tuple[str, ...]:
    return ordered_keys(module_source("win_service_info"), "These should closely reflect")


def service_row(name: str, state: str, start_mode: str, display_name: str = "") -> dict:
    """One entry of win_service_info's ``services``, every key the module writes."""
    if state not in service_states():
        raise ValueError(f"win_service_info never returns state {state!r} ({service_states()})")
    if start_mode not in service_start_modes():
        raise ValueError(f"win_service_info never returns start_mode {start_mode!r}")
    row: dict = dict.fromkeys(service_keys())
    row.update(
        {
            "name": name,
            "display_name": display_name or name,
            "state": state,
            "start_mode": start_mode,
            "dependencies": [],
            "dependency_of": [],
            "triggers": [],
            "failure_actions": [],
        }
    )
    return row


def service_info_result(rows: list[dict]) -> dict:
    """win_service_info's answer: ``exists`` and ``services`` (RETURN)."""
    assert {"exists", "services"} <= set(module_return("win_service_info"))
    return {"changed": False, "exists": bool(rows), "services": rows}


# --------------------------------------------------------------------------- registry


@cache
def registry_types() -> tuple[str, ...]:
    return tuple(re.findall(r'\{\s*"(REG_[A-Z_]+)"\s*\}', module_source("win_reg_stat")))


_REGEDIT_TYPES = {
    "string": "REG_SZ",
    "expandstring": "REG_EXPAND_SZ",
    "multistring": "REG_MULTI_SZ",
    "dword": "REG_DWORD",
    "qword": "REG_QWORD",
    "binary": "REG_BINARY",
    "none": "REG_NONE",
}


def reg_type(regedit_type: str) -> str:
    """win_regedit's ``type`` option as win_reg_stat reports it."""
    options = module_options("win_regedit")["type"]["choices"]
    if regedit_type not in options:
        raise ValueError(f"win_regedit has no type {regedit_type!r}")
    reg = _REGEDIT_TYPES[regedit_type]
    if reg not in registry_types():
        raise ValueError(f"win_reg_stat never reports {reg}")
    return reg


def reg_property(reg: str, value) -> dict:
    if reg not in registry_types():
        raise ValueError(f"win_reg_stat never reports {reg}")
    return {"raw_value": value, "type": reg, "value": value}


def reg_stat_key(values: dict | None) -> dict:
    """win_reg_stat of a key (no ``name``): ``exists``, ``properties``, ``sub_keys``.
    ``values`` maps value name -> (REG_ type, value); None = the key does not exist."""
    documented = module_return("win_reg_stat")
    assert {"exists", "properties", "sub_keys"} <= set(documented)
    if values is None:
        return {"changed": False, "exists": False}
    return {
        "changed": False,
        "exists": True,
        "properties": {name: reg_property(t, v) for name, (t, v) in values.items()},
        "sub_keys": [],
    }


def reg_stat_value(reg: str | None, value=None) -> dict:
    """win_reg_stat of one value (``name`` given): ``exists``, ``type``, ``value``, ``raw_value``."""
    if reg is None:
        return {"changed": False, "exists": False}
    return {"changed": False, "exists": True, **reg_property(reg, value)}


# --------------------------------------------------------------------------- packages


@cache
def package_reboot_codes() -> tuple[int, ...]:
    """Exit codes for which win_package.ps1 itself sets ``reboot_required``."""
    return tuple(
        int(c)
        for c in re.findall(
            r"\$rc -eq (\d+)\)\s*\{\s*\$module\.Result\.reboot_required = \$true",
            module_source("win_package"),
        )
    )


def package_result(rc: int | None, changed: bool = True) -> dict:
    """win_package's answer after running an installer (RETURN: rc, reboot_required)."""
    documented = module_return("win_package")
    assert {"rc", "reboot_required"} <= set(documented)
    # win_package.ps1 sets failed = $false itself when rc is an expected code; without it
    # Ansible would take a non-zero rc (3010, 1641) as a failure.
    assert "$module.Result.failed = $false" in module_source("win_package")
    result: dict = {"changed": changed, "failed": False, "reboot_required": rc in package_reboot_codes()}
    if rc is not None:
        result["rc"] = rc
    return result


def package_failure(rc: int, stdout: str = "", stderr: str = "") -> dict:
    """win_package when the exit code is not in expected_return_code (its FailJson text)."""
    source = module_source("win_package")
    assert "unexpected rc from" in source
    return {
        "failed": True,
        "changed": False,
        "reboot_required": False,
        "rc": rc,
        "stdout": stdout,
        "stderr": stderr,
        "msg": "unexpected rc from 'installer.exe': see rc, stdout, and stderr for more details",
    }


# --------------------------------------------------------------------------- certificates


def certificate_row(thumbprint: str, subject: str, issuer: str | None = None) -> dict:
    source = module_source("win_certificate_info")
    assert "$cert_info.thumbprint = $cert.Thumbprint" in source
    assert "$cert_info.subject = $cert.Subject" in source
    return {
        "thumbprint": thumbprint.upper(),
        "subject": subject,
        "issued_by": (issuer or subject),
        "issuer": issuer or subject,
        "friendly_name": "",
        "has_private_key": False,
    }


def certificate_info_result(rows: list[dict]) -> dict:
    assert {"exists", "certificates"} <= set(module_return("win_certificate_info"))
    return {
        "changed": False,
        "exists": bool(rows),
        "certificates": sorted(rows, key=lambda r: r["thumbprint"]),
    }


# --------------------------------------------------------------------------- PowerShell


@cache
def powershell_keys() -> tuple[str, ...]:
    found = re.findall(r"^\$module\.Result\.(\w+) = ", module_source("win_powershell"), re.M)
    return tuple(k for k in dict.fromkeys(found) if k not in ("changed", "failed"))


def powershell_result(output: list, result: dict | None = None, changed: bool = False) -> dict:
    """win_powershell's answer: ``output`` = the objects the script wrote, ``result`` =
    ``$Ansible.Result``; every other key the module initialises is present and empty."""
    documented = set(module_return("win_powershell"))
    answer: dict = {"changed": changed}
    for key in powershell_keys():
        assert key in documented, key
        answer[key] = "" if key in ("host_out", "host_err") else ([] if key != "result" else {})
    answer["output"] = list(output)
    answer["result"] = dict(result or {})
    return answer


# --------------------------------------------------------------------------- a registry


def apply_regedit(registry: dict[str, dict[str, object]], ops: list[dict]) -> int:
    """Apply win_regedit operations (``{path, name, data, state}``) to ``{key: {name: data}}``
    the way the module does (present sets the value, creating the key; absent deletes it).
    Returns how many operations changed something, as win_regedit's ``changed`` would."""
    changed = 0
    for op in ops:
        key = next((k for k in registry if k.lower() == op["path"].lower()), op["path"])
        values = registry.setdefault(key, {})
        if op["state"] == "present":
            if values.get(op["name"]) != op["data"]:
                values[op["name"]] = op["data"]
                changed += 1
        elif op["name"] in values:
            del values[op["name"]]
            changed += 1
    return changed


def reg_stat_results(registry: dict[str, dict[str, object]], paths: list[str]) -> list[dict]:
    """A looped win_reg_stat over ``paths`` (``results`` with ``item``) from a registry dict."""
    results = []
    for path in paths:
        key = next((k for k in registry if k.lower() == path.lower()), None)
        if key is None:
            results.append(dict(reg_stat_key(None), item=path))
            continue
        typed = {
            name: (
                "REG_MULTI_SZ" if isinstance(v, list) else "REG_DWORD" if isinstance(v, int) else "REG_SZ",
                v,
            )
            for name, v in registry[key].items()
        }
        results.append(dict(reg_stat_key(typed), item=path))
    return results
