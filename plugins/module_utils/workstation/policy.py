"""Browser and smart-card client policies as exact registry operations (pure).

A declarative description (hosts, issuer CNs, extensions, ...) becomes a list of
``RegistryOp`` = ``{control, path, name, type, data, state}`` that
``ansible.windows.win_regedit`` applies one by one. List policies (Edge and
Chrome keep them as a subkey with values named ``1..n``) are shared with GPO,
Intune and other software: the toolkit manages only its own entries (found by
content, appended at the first free number, removed only when it wrote them
and no longer wants them), so a re-run changes nothing and foreign entries
survive every run.

Sources: Microsoft Edge and Chrome enterprise policy references; Pointsharp
Net iD Enterprise / Net iD Client configuration (shared/domain/workstation.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from .versions import (
    Problem,
)

EDGE_ROOT = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Edge"
CHROME_ROOT = "HKLM:\\SOFTWARE\\Policies\\Google\\Chrome"
BROWSER_ROOTS = {"edge": EDGE_ROOT, "chrome": CHROME_ROOT}
ZONEMAP_KEY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\ZoneMapKey"
NETID_ENTERPRISE_ALLOWED = "HKLM:\\SOFTWARE\\Policies\\SecMaker\\NetiD\\Enterprise\\AllowedServers"
NETID_CLIENT_ALLOW_URL = "HKLM:\\SOFTWARE\\Policies\\Pointsharp\\NetiD\\Client\\Plugin\\AllowURL"
# The toolkit's own bookkeeping: value name = a list policy key path, REG_MULTI_SZ data = the
# entries the toolkit wrote there (so it removes only its own entries later).
OWNED_KEY = "HKLM:\\SOFTWARE\\WebcertToolkit\\PolicyListEntries"

CONTROLS = ("auto_select", "popups", "extensions", "native_messaging", "ie_mode", "trusted_sites")
LIST_POLICIES = {
    "auto_select": "AutoSelectCertificateForUrls",
    "popups": "PopupsAllowedForUrls",
    "extensions": "ExtensionInstallForcelist",
    "native_messaging": "NativeMessagingAllowlist",
}
ZONES = {
    "0": "My Computer",
    "1": "Local intranet",
    "2": "Trusted sites",
    "3": "Internet",
    "4": "Restricted sites",
}
NETID_ENTERPRISE_LEVELS = {0: "blocked", 1: "full", 2: "use", 3: "ask", 4: "ask"}
NETID_CLIENT_LEVELS = ("full", "use", "ask", "blocked")

_HOST = re.compile(
    r"^(\[\*\.\]|\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
    re.IGNORECASE,
)
_EXTENSION_ID = re.compile(r"^[a-p]{32}$")
_NATIVE_HOST = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


# A policy setting that is wrong: where (dotted path) and what. The same value type as the
# installer and service checks use.
PolicyError = Problem


@dataclass(frozen=True)
class RegistryOp:
    """One ``win_regedit`` call. ``name`` None means the key itself."""

    control: str
    path: str
    name: str | None
    type: str | None  # string | dword | None for absent
    data: str | int | None
    state: str  # present | absent

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Extension:
    browser: str
    id: str
    update_url: str

    @property
    def value(self) -> str:
        return f"{self.id};{self.update_url}"


@dataclass(frozen=True)
class BrowserPolicy:
    browsers: tuple[str, ...] = ("edge", "chrome")
    controls: frozenset[str] = frozenset(CONTROLS)
    auto_select_patterns: tuple[str, ...] = ()
    auto_select_issuer_cns: tuple[str, ...] = ()
    popups: tuple[str, ...] = ()
    extensions: tuple[Extension, ...] = ()
    native_messaging: tuple[str, ...] = ()
    ie_mode_level: int | None = None
    ie_mode_site_list: str = ""
    trusted_sites: tuple[tuple[str, str], ...] = ()
    trusted_sites_absent: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- parsing


def url_pattern(entry: str) -> str:
    """``idp.inera.se`` -> ``https://idp.inera.se``; patterns with a scheme or
    ``[*.]`` prefix are kept as given."""
    entry = entry.strip()
    if "://" in entry or entry.startswith("[*.]"):
        return entry
    return f"https://{entry}"


def _check_pattern(value: object, path: str, errors: list[PolicyError]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(PolicyError(path, "must be a non-empty host name or https:// URL pattern"))
        return None
    text = value.strip()
    if any(ch.isspace() for ch in text):
        errors.append(PolicyError(path, f"{value!r} contains white space"))
        return None
    if text.lower().startswith("http://"):
        errors.append(PolicyError(path, f"{value!r} uses plain http; Webcert and the IdP are https only"))
        return None
    if "://" not in text:
        if not _HOST.match(text):
            errors.append(
                PolicyError(path, f"{value!r} is not a host name (like idp.inera.se or [*.]inera.se)")
            )
            return None
    elif not text.lower().startswith("https://"):
        errors.append(PolicyError(path, f"{value!r} must start with https://"))
        return None
    return url_pattern(text)


def _str_list(spec: Mapping, key: str, errors: list[PolicyError]) -> list:
    value = spec.get(key)
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors.append(PolicyError(key, "must be a list"))
        return []
    return list(value)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)


def parse_browser_policy(spec: Mapping) -> tuple[BrowserPolicy | None, list[PolicyError]]:
    """Validate the declarative description. Keys (all optional):

    ``browsers`` (edge/chrome), ``controls`` (mapping control -> bool),
    ``auto_select_hosts``, ``auto_select_issuer_cns``, ``popup_hosts``,
    ``extensions`` ([{browser, id, update_url}]), ``native_messaging_hosts``,
    ``ie_mode_level`` (None, 0, 1, 2), ``ie_mode_site_list``,
    ``trusted_sites`` ({site: zone}), ``trusted_sites_absent`` ([site]).
    """
    errors: list[PolicyError] = []
    if not isinstance(spec, Mapping):
        return None, [PolicyError("policy", "must be a mapping")]

    browsers = []
    for i, browser in enumerate(
        _str_list(spec, "browsers", errors) if "browsers" in spec else ["edge", "chrome"]
    ):
        if browser not in BROWSER_ROOTS:
            errors.append(PolicyError(f"browsers[{i}]", f"{browser!r} is not edge or chrome"))
        else:
            browsers.append(browser)

    controls_spec = spec.get("controls") or {}
    if not isinstance(controls_spec, Mapping):
        errors.append(PolicyError("controls", "must be a mapping of control name to true/false"))
        controls_spec = {}
    for name, enabled in controls_spec.items():
        if name not in CONTROLS:
            errors.append(PolicyError(f"controls.{name}", f"unknown control (known: {', '.join(CONTROLS)})"))
        elif not isinstance(enabled, bool):
            errors.append(PolicyError(f"controls.{name}", f"{enabled!r} must be true or false"))
    controls = frozenset(c for c in CONTROLS if controls_spec.get(c, True) is True)

    patterns = []
    for i, host in enumerate(_str_list(spec, "auto_select_hosts", errors)):
        pattern = _check_pattern(host, f"auto_select_hosts[{i}]", errors)
        if pattern:
            patterns.append(pattern)
    issuers = []
    for i, cn in enumerate(_str_list(spec, "auto_select_issuer_cns", errors)):
        if not isinstance(cn, str) or not cn.strip():
            errors.append(
                PolicyError(f"auto_select_issuer_cns[{i}]", "must be a non-empty issuer common name")
            )
        else:
            issuers.append(cn.strip())
    if "auto_select" in controls and patterns and not issuers:
        errors.append(
            PolicyError(
                "auto_select_issuer_cns",
                "is empty: without an issuer filter the browser would pick any certificate",
            )
        )

    popups = []
    for i, host in enumerate(_str_list(spec, "popup_hosts", errors)):
        pattern = _check_pattern(host, f"popup_hosts[{i}]", errors)
        if pattern:
            popups.append(pattern)

    extensions = []
    for i, ext in enumerate(_str_list(spec, "extensions", errors)):
        where = f"extensions[{i}]"
        if not isinstance(ext, Mapping):
            errors.append(PolicyError(where, "must be a mapping with browser, id and update_url"))
            continue
        browser = ext.get("browser")
        ext_id = ext.get("id")
        update_url = ext.get("update_url")
        ok = True
        if browser not in BROWSER_ROOTS:
            errors.append(PolicyError(f"{where}.browser", f"{browser!r} is not edge or chrome"))
            ok = False
        if not isinstance(ext_id, str) or not _EXTENSION_ID.match(ext_id):
            errors.append(PolicyError(f"{where}.id", f"{ext_id!r} is not an extension id (32 letters a-p)"))
            ok = False
        if not isinstance(update_url, str) or not update_url.startswith("https://") or ";" in update_url:
            errors.append(
                PolicyError(
                    f"{where}.update_url",
                    f"{update_url!r} must be an https:// update URL without ';'",
                )
            )
            ok = False
        if ok:
            extensions.append(Extension(browser, ext_id, update_url))

    natives = []
    for i, name in enumerate(_str_list(spec, "native_messaging_hosts", errors)):
        if not isinstance(name, str) or not _NATIVE_HOST.match(name):
            errors.append(
                PolicyError(
                    f"native_messaging_hosts[{i}]",
                    f"{name!r} is not a native messaging host name (like com.example.host)",
                )
            )
        else:
            natives.append(name)

    level = spec.get("ie_mode_level")
    if level in ("", None):
        level = None
    elif isinstance(level, bool) or not isinstance(level, int) or level not in (0, 1, 2):
        errors.append(
            PolicyError(
                "ie_mode_level",
                f"{level!r} must be 0 (none), 1 (IE mode) or 2 (open in IE11), or null",
            )
        )
        level = None
    site_list = spec.get("ie_mode_site_list") or ""
    if not isinstance(site_list, str):
        errors.append(PolicyError("ie_mode_site_list", "must be a URL or UNC path string"))
        site_list = ""
    elif site_list and not site_list.lower().startswith(("https://", "http://", "file://", "\\\\")):
        errors.append(
            PolicyError("ie_mode_site_list", f"{site_list!r} must be an https://, file:// or UNC location")
        )

    trusted = []
    sites = spec.get("trusted_sites") or {}
    if not isinstance(sites, Mapping):
        errors.append(PolicyError("trusted_sites", "must be a mapping of site to zone number"))
        sites = {}
    for site, zone in sites.items():
        where = f"trusted_sites.{site}"
        if not isinstance(site, str) or not site.strip() or any(ch.isspace() for ch in site):
            errors.append(PolicyError(where, "site must be a host name or URL without spaces"))
            continue
        zone_text = str(zone)
        if zone_text not in ZONES or isinstance(zone, bool):
            errors.append(PolicyError(where, f"zone {zone!r} must be 0-4 (2 = Trusted sites)"))
            continue
        trusted.append((site.strip(), zone_text))
    absent = []
    for i, site in enumerate(_str_list(spec, "trusted_sites_absent", errors)):
        if not isinstance(site, str) or not site.strip():
            errors.append(PolicyError(f"trusted_sites_absent[{i}]", "must be a non-empty site"))
        elif site in sites:
            errors.append(
                PolicyError(f"trusted_sites_absent[{i}]", f"{site!r} is also listed in trusted_sites")
            )
        else:
            absent.append(site.strip())

    if errors:
        return None, errors
    return (
        BrowserPolicy(
            browsers=_unique(browsers),
            controls=controls,
            auto_select_patterns=_unique(patterns),
            auto_select_issuer_cns=_unique(issuers),
            popups=_unique(popups),
            extensions=tuple(dict.fromkeys(extensions)),
            native_messaging=_unique(natives),
            ie_mode_level=level,
            ie_mode_site_list=site_list,
            trusted_sites=tuple(sorted(trusted)),
            trusted_sites_absent=_unique(absent),
        ),
        [],
    )


# --------------------------------------------------------------------------- rendering


def auto_select_json(pattern: str, issuer_cn: str) -> str:
    """The value Edge/Chrome document for AutoSelectCertificateForUrls, compact JSON:
    ``{"pattern":"https://idp.inera.se","filter":{"ISSUER":{"CN":"..."}}}``."""
    return json.dumps(
        {"pattern": pattern, "filter": {"ISSUER": {"CN": issuer_cn}}},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _numbered(present: Mapping | None) -> dict[str, str]:
    """Numbered values (name -> data) of one list key; other names are never ours."""
    out: dict[str, str] = {}
    for name, data in (present or {}).items():
        if isinstance(name, str) and name.isdigit():
            out[name] = data if isinstance(data, str) else json.dumps(data)
    return out


def numbered_list_ops(
    control: str,
    path: str,
    values: Iterable[str],
    present: Mapping | Iterable[str] | None,
    owned: Iterable[str] | None = None,
) -> list[RegistryOp]:
    """Manage the toolkit's own entries in a numbered list policy (values ``1..n``).

    Other tools (GPO, Intune, other software) write to the same keys, so entries are found
    by content, never by number: a wanted value already present anywhere in the list is
    kept where it is; a missing one is appended at the first free number; a numbered value
    is removed only when its data is in ``owned`` (what the toolkit wrote before, kept in
    :data:`OWNED_KEY`) and no longer wanted. An empty ``values`` means "leave the list
    alone": no operation at all. The last operation records what the toolkit owns now.
    ``present`` maps value name -> data (a plain list of names counts as unknown data).
    """
    values = list(dict.fromkeys(values))
    if not values:
        return []
    if present is not None and not isinstance(present, Mapping):
        present = dict.fromkeys((str(n) for n in present), None)
    numbered = _numbered(present)
    by_data: dict[str, str] = {}
    for name in sorted(numbered, key=int):
        by_data.setdefault(numbered[name], name)
    taken = set(numbered)
    ops: list[RegistryOp] = []
    free = 1
    mine_before = set(owned or ())
    # Ours from now on: what we appended, and what we owned before and still want. A value
    # another tool already wrote stays theirs, so it is never removed by us.
    mine_now = [v for v in values if v in mine_before or v not in by_data]
    for value in values:
        name = by_data.get(value)
        if name is None:
            while str(free) in taken:
                free += 1
            name = str(free)
            taken.add(name)
        ops.append(RegistryOp(control, path, name, "string", value, "present"))
    wanted = set(values)
    for name in sorted(numbered, key=int):
        data = numbered[name]
        if data in mine_before and data not in wanted:
            ops.append(RegistryOp(control, path, name, None, None, "absent"))
    if mine_now or mine_before:
        ops.append(RegistryOp(control, OWNED_KEY, path, "multistring", mine_now, "present"))
    return ops


def _lookup(mapping: Mapping | None, path: str, default):
    if not mapping:
        return default
    for key, value in mapping.items():
        if str(key).lower() == path.lower():
            return value
    return default


def list_values(policy: BrowserPolicy, browser: str, control: str) -> list[str]:
    if control == "auto_select":
        return [
            auto_select_json(p, cn)
            for p in policy.auto_select_patterns
            for cn in policy.auto_select_issuer_cns
        ]
    if control == "popups":
        return list(policy.popups)
    if control == "extensions":
        return [e.value for e in policy.extensions if e.browser == browser]
    if control == "native_messaging":
        return list(policy.native_messaging)
    raise ValueError(f"{control} is not a list policy")


def list_keys(policy: BrowserPolicy) -> list[str]:
    """Registry keys whose current value names the role must read before rendering."""
    keys = []
    for browser in policy.browsers:
        for control, policy_name in LIST_POLICIES.items():
            if control in policy.controls:
                keys.append(f"{BROWSER_ROOTS[browser]}\\{policy_name}")
    return keys


def render_browser_policy(
    policy: BrowserPolicy, present: Mapping | None = None, owned: Mapping | None = None
) -> list[RegistryOp]:
    """Exact registry operations for the policy. ``present`` maps a list key path to
    ``{value name: data}`` currently under it (from ``win_reg_stat``); ``owned`` maps a list
    key path to the data the toolkit wrote there before (from :data:`OWNED_KEY`)."""
    ops: list[RegistryOp] = []
    for browser in policy.browsers:
        root = BROWSER_ROOTS[browser]
        for control, policy_name in LIST_POLICIES.items():
            if control not in policy.controls:
                continue
            path = f"{root}\\{policy_name}"
            ops.extend(
                numbered_list_ops(
                    control,
                    path,
                    list_values(policy, browser, control),
                    _lookup(present, path, {}),
                    _lookup(owned, path, []),
                )
            )
        if browser == "edge" and "ie_mode" in policy.controls and policy.ie_mode_level is not None:
            ops.append(
                RegistryOp(
                    "ie_mode",
                    root,
                    "InternetExplorerIntegrationLevel",
                    "dword",
                    policy.ie_mode_level,
                    "present",
                )
            )
            if policy.ie_mode_site_list and policy.ie_mode_level == 1:
                ops.append(
                    RegistryOp(
                        "ie_mode",
                        root,
                        "InternetExplorerIntegrationSiteList",
                        "string",
                        policy.ie_mode_site_list,
                        "present",
                    )
                )
            else:
                ops.append(
                    RegistryOp("ie_mode", root, "InternetExplorerIntegrationSiteList", None, None, "absent")
                )
    if "trusted_sites" in policy.controls:
        for site, zone in policy.trusted_sites:
            ops.append(RegistryOp("trusted_sites", ZONEMAP_KEY, site, "string", zone, "present"))
        for site in policy.trusted_sites_absent:
            ops.append(RegistryOp("trusted_sites", ZONEMAP_KEY, site, None, None, "absent"))
    return ops


def browser_registry_ops(
    spec: Mapping, present: Mapping | None = None, owned: Mapping | None = None
) -> tuple[list[dict], list[str]]:
    """Parse + render in one step: ``(ops as dicts, error strings)``."""
    policy, errors = parse_browser_policy(spec)
    if policy is None:
        return [], [str(e) for e in errors]
    return [op.as_dict() for op in render_browser_policy(policy, present, owned)], []


def browser_list_keys(spec: Mapping) -> tuple[list[str], list[str]]:
    policy, errors = parse_browser_policy(spec)
    if policy is None:
        return [], [str(e) for e in errors]
    return list_keys(policy), []


# --------------------------------------------------------------------------- Net iD


def netid_allowed_ops(
    product: str,
    entries: Iterable[Mapping],
    present: Mapping | Iterable[str] | None = None,
    exclusive: bool = False,
    owned: Iterable[str] | None = None,
) -> tuple[list[dict], list[str]]:
    """Registry operations for the sites allowed to use Net iD.

    ``entries`` = ``[{url, level}]``. Net iD Enterprise: key ``AllowedServers``
    under the policy root, value name = URL pattern, REG_SZ data = level number
    (0 blocked, 1 full, 2 use, 3/4 ask); with ``exclusive`` other value names
    there are removed. Net iD Client: ``Plugin\\AllowURL`` numbered values
    ``"<url>,<level>"`` with level full/use/ask/blocked, only the toolkit's own entries
    managed (see :func:`numbered_list_ops`).
    """
    errors: list[str] = []
    cleaned: list[tuple[str, object]] = []
    for i, entry in enumerate(entries or []):
        where = f"allowed_servers[{i}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where}: must be a mapping with url and level")
            continue
        url = entry.get("url")
        if (
            not isinstance(url, str)
            or not url.startswith("https://")
            or any(c.isspace() or c == "," for c in url)
        ):
            errors.append(f"{where}.url: {url!r} must be an https:// URL pattern without spaces or commas")
            continue
        level = entry.get("level")
        if product == "enterprise":
            if isinstance(level, bool) or not isinstance(level, int) or level not in NETID_ENTERPRISE_LEVELS:
                errors.append(
                    f"{where}.level: {level!r} must be 0 (blocked), 1 (full), 2 (use), 3 or 4 (ask)"
                )
                continue
        elif product == "client" and level not in NETID_CLIENT_LEVELS:
            errors.append(f"{where}.level: {level!r} must be one of {', '.join(NETID_CLIENT_LEVELS)}")
            continue
        cleaned.append((url, level))
    if product not in ("enterprise", "client"):
        errors.append(f"product: {product!r} must be enterprise or client")
    if errors:
        return [], errors
    if product == "client":
        values = [f"{url},{level}" for url, level in cleaned]
        return [
            op.as_dict()
            for op in numbered_list_ops("allowed_servers", NETID_CLIENT_ALLOW_URL, values, present, owned)
        ], []
    ops = [
        RegistryOp("allowed_servers", NETID_ENTERPRISE_ALLOWED, url, "string", str(level), "present")
        for url, level in cleaned
    ]
    if exclusive:
        wanted = {url.lower() for url, _unused in cleaned}
        ops.extend(
            RegistryOp("allowed_servers", NETID_ENTERPRISE_ALLOWED, name, None, None, "absent")
            for name in sorted(present or [])
            if name and name.lower() not in wanted
        )
    return [op.as_dict() for op in ops], []


def values_by_key(results: Iterable[Mapping]) -> dict[str, dict[str, object]]:
    """``{key path: {value name: data}}`` from the ``results`` of a looped ``win_reg_stat``
    (each result has ``item`` = the path, ``exists`` and ``properties`` =
    ``{name: {raw_value, type, value}}``, see the module's RETURN). The unnamed default
    value (``""``) is left out."""
    present: dict[str, dict[str, object]] = {}
    for result in results or []:
        if not isinstance(result, Mapping):
            continue
        path = result.get("item")
        if not isinstance(path, str):
            continue
        props = result.get("properties") if result.get("exists") else None
        present[path] = {
            str(name): (prop.get("value") if isinstance(prop, Mapping) else prop)
            for name, prop in sorted((props or {}).items())
            if name != ""
        }
    return present


def owned_by_key(stat: Mapping | None) -> dict[str, list[str]]:
    """What the toolkit wrote before, from ``win_reg_stat`` of :data:`OWNED_KEY`:
    value name = list key path, REG_MULTI_SZ data = the entries."""
    if not isinstance(stat, Mapping) or not stat.get("exists"):
        return {}
    owned: dict[str, list[str]] = {}
    for name, prop in (stat.get("properties") or {}).items():
        if name == "" or not isinstance(prop, Mapping):
            continue
        value = prop.get("value")
        if isinstance(value, str):
            value = [value]
        owned[str(name)] = [str(v) for v in value or [] if v]
    return owned
