"""Controller-side decisions for Windows workstations (pure, no I/O).

* version parsing and comparison (``6.7 < 6.10``, ``2.0.8481 < 2.0.10000``);
* which smart-card client needs which Windows services (Certificate Propagation
  off with SITHS eID-app MD packages, Smart Card always running, ...);
* conflicts between installed smart-card client packages;
* validation of operator-supplied installer parameters (sha256 is mandatory);
* trusted-CA bookkeeping (thumbprints, legacy SITHS CAs);
* compliance evaluation of the raw facts the Windows roles gather, into the
  ``workstations.json`` contract of ``docs/architecture.md``.

Errors are values: :class:`Problem` carries a dotted path and a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

CLIENTS = ("siths_eid_app", "netid_enterprise", "netid_client")

CLIENT_LABELS = {
    "siths_eid_app": "SITHS eID-app",
    "netid_enterprise": "Net iD Enterprise",
    "netid_client": "Net iD Client",
}

# Minimum versions from Inera / the onboarding guide (shared/domain/workstation.md).
MIN_VERSIONS = {
    ("siths_eid_app", "workstation"): "2.0.8481",
    ("siths_eid_app", "vdi"): "2.0.8325",
    ("siths_eid_app", "server"): "2.0.8325",
    ("netid_enterprise", "workstation"): "6.7",
    ("netid_enterprise", "vdi"): "6.7",
    ("netid_enterprise", "server"): "6.7",
}

PLATFORMS = ("workstation", "vdi", "server")

# DisplayName patterns (Programs and Features) that identify each client family.
PRODUCT_PATTERNS = {
    "netid_enterprise": re.compile(r"^\s*net\s*id\s+enterprise", re.IGNORECASE),
    "netid_client": re.compile(r"^\s*net\s*id\s+client", re.IGNORECASE),
    "siths_eid_app": re.compile(r"siths\s*e-?id", re.IGNORECASE),
}

LEGACY_SITHS_CA_NAMES = (
    "SITHS Root CA v1",
    "SITHS Type 1 CA v1",
    "SITHS Type 3 CA v1",
    "SITHS CA v3",
)

SERVICE_STATES = ("started", "stopped")
START_MODES = ("auto", "delayed", "manual", "disabled")

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class Problem:
    """A validation error: where (dotted path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# --------------------------------------------------------------------------- versions


def parse_version(text: object) -> tuple[int, ...]:
    """Parse a dotted version (``"6.10.2"``, ``"v2.0.8481"``, ``6.7``) into integers.

    Trailing text after the numeric part (``"6.8.2.14 (build)"``) is ignored.
    Raises ``ValueError`` with a readable message for anything else.
    """
    if isinstance(text, bool) or text is None:
        raise ValueError(f"{text!r} is not a version (write it like 6.7 or 2.0.8481)")
    if isinstance(text, int | float):
        text = str(text)
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a version (write it like 6.7 or 2.0.8481)")
    match = _VERSION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a version (write it like 6.7 or 2.0.8481)")
    return tuple(int(part) for part in match.group(1).split("."))


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def compare_versions(a: object, b: object) -> int:
    """-1, 0 or 1 like ``cmp``; missing parts count as zero (``6.7 == 6.7.0``)."""
    left, right = _padded(parse_version(a), parse_version(b))
    return (left > right) - (left < right)


def version_at_least(version: object, minimum: object) -> bool:
    return compare_versions(version, minimum) >= 0


def minimum_version(client: str, platform: str = "workstation") -> str | None:
    """Inera's minimum version for a client on a platform, or None when none is known."""
    return MIN_VERSIONS.get((client, platform))


# --------------------------------------------------------------------------- products


def product_family(display_name: str) -> str | None:
    """Which smart-card client a Programs-and-Features DisplayName belongs to."""
    for family, pattern in PRODUCT_PATTERNS.items():
        if pattern.search(display_name or ""):
            return family
    return None


def _product_list(installed: Iterable[Mapping] | Mapping | None) -> list[dict]:
    if installed is None:
        return []
    if isinstance(installed, Mapping):
        installed = [installed]
    products = []
    for item in installed:
        if not isinstance(item, Mapping):
            continue
        name = str(item.get("name") or item.get("DisplayName") or "")
        version = item.get("version", item.get("DisplayVersion"))
        product_id = item.get("product_id", item.get("PSChildName"))
        products.append(
            {
                "name": name,
                "version": None if version in (None, "") else str(version),
                "product_id": None if product_id in (None, "") else str(product_id),
                "family": product_family(name),
            }
        )
    return products


def normalise_products(installed: Iterable[Mapping] | Mapping | None) -> list[dict]:
    """Uninstall-key rows (``DisplayName``/``DisplayVersion``/``PSChildName`` or
    ``name``/``version``/``product_id``) as ``{name, version, product_id, family}``."""
    return _product_list(installed)


def installed_client(installed: Iterable[Mapping] | Mapping | None, client: str) -> dict | None:
    """The installed package of ``client`` with the highest parseable version, or None."""
    best: dict | None = None
    for product in _product_list(installed):
        if product["family"] != client:
            continue
        if best is None:
            best = product
            continue
        try:
            if compare_versions(product["version"], best["version"]) > 0:
                best = product
        except ValueError:
            continue
    return best


def client_conflicts(installed: Iterable[Mapping] | Mapping | None, client: str) -> list[dict]:
    """Installed smart-card client packages that must not live next to ``client``.

    SITHS eID-app and Net iD (Enterprise or Client) must not be mixed (Inera:
    "do not mix packages"); Net iD Enterprise and Net iD Client are alternatives
    too. Returns the conflicting products (empty list = no conflict).
    """
    if client not in CLIENTS:
        raise ValueError(f"unknown client {client!r} (choose one of {', '.join(CLIENTS)})")
    return [p for p in _product_list(installed) if p["family"] not in (None, client)]


def install_decision(
    installed: Iterable[Mapping] | Mapping | None,
    client: str,
    minimum: str | None,
    target: str | None,
) -> dict:
    """Whether the client must be installed or upgraded.

    ``minimum`` is the lowest acceptable version (None = any), ``target`` the
    version the operator's installer carries (None = no installer supplied).
    Returns ``{action: none|install|upgrade|blocked, current, reason}``; ``blocked``
    means an action is needed but the supplied installer cannot satisfy it.
    """
    current = installed_client(installed, client)
    label = CLIENT_LABELS.get(client, client)
    current_version = current["version"] if current else None
    if current is None:
        if target is None:
            return _decision(
                "blocked", None, f"{label} is not installed and no installer is supplied"
            )
        if minimum and not version_at_least(target, minimum):
            return _decision(
                "blocked", None, f"the supplied installer ({target}) is older than {minimum}"
            )
        return _decision("install", None, f"{label} is not installed")
    try:
        too_old = bool(minimum) and not version_at_least(current_version, minimum)
    except ValueError:
        too_old = True
    behind_target = False
    if target is not None and current_version is not None:
        try:
            behind_target = compare_versions(current_version, target) < 0
        except ValueError:
            behind_target = True
    if too_old or behind_target:
        if target is None:
            return _decision(
                "blocked",
                current_version,
                f"{label} {current_version} is older than {minimum} and no installer is supplied",
            )
        if minimum and not version_at_least(target, minimum):
            return _decision(
                "blocked",
                current_version,
                f"the supplied installer ({target}) is older than {minimum}",
            )
        why = f"older than {minimum}" if too_old else f"older than the supplied {target}"
        return _decision("upgrade", current_version, f"{label} {current_version} is {why}")
    return _decision("none", current_version, f"{label} {current_version} is installed")


def _decision(action: str, current: str | None, reason: str) -> dict:
    return {"action": action, "current": current, "reason": reason}


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class ServiceRule:
    """Desired state of one Windows service and why."""

    name: str
    state: str  # started | stopped
    start_mode: str  # auto | manual | disabled
    reason: str


def service_rules(
    client: str,
    md_package: bool = False,
    lock_on_removal: bool = False,
    certprop: str = "auto",
    netid_certmover: bool = False,
) -> list[ServiceRule]:
    """The services the smartcard role enforces for a client choice.

    ``certprop`` is the operator override for Certificate Propagation:
    ``auto`` (derive from the client), ``enabled``, ``disabled`` or ``unmanaged``.
    """
    if client not in CLIENTS:
        raise ValueError(f"unknown client {client!r} (choose one of {', '.join(CLIENTS)})")
    if certprop not in ("auto", "enabled", "disabled", "unmanaged"):
        raise ValueError(f"certprop {certprop!r} must be auto, enabled, disabled or unmanaged")
    rules = [
        ServiceRule(
            "SCardSvr",
            "started",
            "auto",
            "the Smart Card resource manager must run for any card reader",
        )
    ]
    mode = certprop
    reason = "set by the operator"
    if certprop == "auto":
        mode = "unmanaged"
        if client == "siths_eid_app" and md_package:
            mode, reason = (
                "disabled",
                "SITHS eID-app MD packages require Certificate Propagation to be disabled",
            )
        elif client == "netid_enterprise" and netid_certmover:
            mode, reason = "disabled", "Net iD CertMover conflicts with Certificate Propagation"
    if mode == "disabled":
        rules.append(ServiceRule("CertPropSvc", "stopped", "disabled", reason))
    elif mode == "enabled":
        rules.append(ServiceRule("CertPropSvc", "started", "manual", reason))
    if lock_on_removal:
        rules.append(
            ServiceRule(
                "SCPolicySvc",
                "started",
                "auto",
                "card removal locks the screen (Smart Card Removal Policy)",
            )
        )
    return rules


def service_rules_dicts(*args, **kwargs) -> list[dict]:
    return [asdict(rule) for rule in service_rules(*args, **kwargs)]


def _service_view(info: Mapping | None) -> dict:
    """One service from win_service_info (``state``/``start_mode``) normalised."""
    if not info:
        return {"state": "missing", "start_mode": None}
    state = str(info.get("state", "unknown")).lower()
    start_mode = info.get("start_mode")
    return {"state": state, "start_mode": None if start_mode is None else str(start_mode).lower()}


def services_from_info(services: Iterable[Mapping] | None) -> dict[str, dict]:
    """``win_service_info.services`` (list of dicts with name/state/start_mode) by name."""
    result: dict[str, dict] = {}
    for svc in services or []:
        if isinstance(svc, Mapping) and svc.get("name"):
            result[str(svc["name"])] = _service_view(svc)
    return result


def service_problems(
    rules: Iterable[ServiceRule | Mapping], services: Mapping[str, Mapping]
) -> list[str]:
    problems = []
    for rule in rules:
        r = rule if isinstance(rule, ServiceRule) else ServiceRule(**rule)
        seen = _service_view(_lookup_ci(services, r.name))
        if seen["state"] == "missing":
            if r.state == "started":
                problems.append(f"service {r.name} is missing ({r.reason})")
            continue
        want_state = "running" if r.state == "started" else "stopped"
        if seen["state"] != want_state:
            problems.append(
                f"service {r.name} is {seen['state']}, expected {want_state} ({r.reason})"
            )
        mode = seen["start_mode"]
        delayed_auto = r.start_mode == "auto" and mode == "delayed"
        if mode is not None and mode != r.start_mode and not delayed_auto:
            problems.append(
                f"service {r.name} start mode is {mode}, expected {r.start_mode} ({r.reason})"
            )
    return problems


def _lookup_ci(mapping: Mapping[str, Mapping], key: str) -> Mapping | None:
    for name, value in mapping.items():
        if name.lower() == key.lower():
            return value
    return None


# --------------------------------------------------------------------------- installers


def validate_installer(
    installer: object, path: str = "installer", allow_http: bool = False
) -> list[Problem]:
    """Check operator-supplied installer parameters before any host is touched.

    An empty ``path`` means "no installer supplied" and is valid (the role then
    only detects and reports). With a path, ``sha256``, ``product_id`` and
    ``version`` are required.
    """
    if installer is None:
        return []
    if not isinstance(installer, Mapping):
        return [
            Problem(
                path,
                "must be a mapping with path, sha256, product_id and version"
                f" (got {type(installer).__name__})",
            )
        ]
    problems: list[Problem] = []
    source = installer.get("path") or ""
    if not isinstance(source, str):
        return [Problem(f"{path}.path", "must be a string (UNC path, local path or https:// URL)")]
    if not source.strip():
        return problems
    lowered = source.lower()
    if lowered.startswith("http://") and not allow_http:
        problems.append(
            Problem(f"{path}.path", f"{source!r} uses plain http; use https:// or a UNC path")
        )
    elif not (
        lowered.startswith(("https://", "http://", "\\\\")) or re.match(r"^[a-z]:\\", lowered)
    ):
        problems.append(
            Problem(
                f"{path}.path",
                f"{source!r} is not a UNC path (\\\\server\\share\\file),"
                " a local path (C:\\...) or an https:// URL",
            )
        )
    sha = installer.get("sha256")
    if sha in (None, ""):
        problems.append(
            Problem(
                f"{path}.sha256",
                "is required: the installer's SHA-256 (Get-FileHash -Algorithm SHA256)",
            )
        )
    elif not isinstance(sha, str) or not _SHA256.match(sha):
        problems.append(
            Problem(
                f"{path}.sha256", f"{sha!r} is not a SHA-256 digest (64 hexadecimal characters)"
            )
        )
    product_id = installer.get("product_id")
    if not isinstance(product_id, str) or not product_id.strip():
        problems.append(
            Problem(
                f"{path}.product_id",
                "is required: the uninstall key name of the product (a GUID like {...} for MSI)",
            )
        )
    version = installer.get("version")
    if version in (None, ""):
        problems.append(
            Problem(
                f"{path}.version",
                "is required: the version this installer installs (e.g. 2.0.8481)",
            )
        )
    else:
        try:
            parse_version(version)
        except ValueError as exc:
            problems.append(Problem(f"{path}.version", str(exc)))
    arguments = installer.get("arguments")
    if (
        arguments is not None
        and not isinstance(arguments, str)
        and (not isinstance(arguments, Sequence) or not all(isinstance(a, str) for a in arguments))
    ):
        problems.append(Problem(f"{path}.arguments", "must be a string or a list of strings"))
    codes = installer.get("expected_return_codes")
    if codes is not None and (
        isinstance(codes, str | bytes)
        or not isinstance(codes, Sequence)
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes)
    ):
        problems.append(
            Problem(f"{path}.expected_return_codes", "must be a list of integers, e.g. [0, 3010]")
        )
    signer = installer.get("signer_subject")
    if signer is not None and not isinstance(signer, str):
        problems.append(
            Problem(
                f"{path}.signer_subject",
                "must be a string (part of the Authenticode signer subject)",
            )
        )
    return problems


def installer_problem_strings(
    installer: object, path: str = "installer", allow_http: bool = False
) -> list[str]:
    return [str(p) for p in validate_installer(installer, path, allow_http)]


def signature_problems(signature: Mapping | None, signer_subject: str | None) -> list[str]:
    """Judge a ``Get-AuthenticodeSignature`` result ``{status, subject}``."""
    if not signer_subject:
        return []
    if not signature:
        return ["the installer's Authenticode signature could not be read"]
    status = str(signature.get("status", ""))
    subject = str(signature.get("subject") or "")
    problems = []
    if status.lower() != "valid":
        problems.append(
            "the installer's Authenticode signature status is"
            f" {status or 'unknown'}, expected Valid"
        )
    if signer_subject.lower() not in subject.lower():
        problems.append(
            f"the installer is signed by {subject or 'nobody'!r},"
            f" expected a subject containing {signer_subject!r}"
        )
    return problems


# --------------------------------------------------------------------------- certificates


def certificate_der(content: str | bytes) -> bytes:
    """DER bytes of a certificate given as PEM text, DER bytes, or base64 of either
    (``slurp`` returns base64). Raises ValueError when it is neither."""
    raw = content.encode("ascii", "ignore") if isinstance(content, str) else bytes(content)
    if b"-----BEGIN CERTIFICATE-----" not in raw and not raw.startswith(b"\x30"):
        try:
            decoded = base64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("not a certificate (neither PEM nor DER)") from exc
        raw = decoded
    if b"-----BEGIN CERTIFICATE-----" in raw:
        body = raw.split(b"-----BEGIN CERTIFICATE-----", 1)[1].split(
            b"-----END CERTIFICATE-----", 1
        )[0]
        try:
            raw = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("PEM block is not valid base64") from exc
    if not raw.startswith(b"\x30") or len(raw) < 64:
        raise ValueError("not a certificate (neither PEM nor DER)")
    return raw


def certificate_thumbprint(content: str | bytes) -> str:
    """Windows thumbprint (upper-case SHA-1 of the DER encoding)."""
    return hashlib.sha1(certificate_der(content), usedforsecurity=False).hexdigest().upper()


def subject_cn(subject: str) -> str | None:
    """The CN of a Windows-formatted subject (``CN=SITHS Root CA v1, O=Inera AB, C=SE``)."""
    match = re.search(r"(?:^|,\s*)CN=(\"[^\"]*\"|[^,]*)", subject or "")
    if not match:
        return None
    return match.group(1).strip().strip('"')


def legacy_certificates(
    certificates: Iterable[Mapping] | None, legacy_names: Iterable[str] = LEGACY_SITHS_CA_NAMES
) -> list[dict]:
    """Certificates (win_certificate_info rows) whose subject CN is a legacy SITHS CA name,
    including TEST/PP/SYSTEMTEST-prefixed variants."""
    names = {n.lower() for n in legacy_names}
    found = []
    for cert in certificates or []:
        cn = subject_cn(str(cert.get("subject", "")))
        if cn is None:
            continue
        bare = re.sub(r"^(test|pp|systemtest)\s+", "", cn, flags=re.IGNORECASE).lower()
        if bare in names:
            found.append(
                {
                    "thumbprint": str(cert.get("thumbprint", "")).upper(),
                    "subject": str(cert.get("subject", "")),
                }
            )
    return found


# --------------------------------------------------------------------------- compliance


def evaluate_host(
    host: str, groups: Iterable[str], raw: Mapping | None, require_reader: bool = True
) -> dict:
    """One host's entry in ``workstations.json`` from the raw facts the roles gathered.

    ``raw`` keys (each optional, written by one role):
    ``client``  {name, installed: [rows], min_version, reboot_required, problems}
    ``smartcard`` {services: {name: {state, start_mode}}, rules: [ServiceRule dicts],
                   readers: [names], reboot_required}
    ``browser`` {browsers: [...], values: int, pending: int, problems}
    ``trust``   {expected: [{thumbprint, subject, store}], present: {store: [thumbprints]},
                 legacy: [{thumbprint, subject}], remove_legacy: bool}
    """
    groups = sorted(g for g in groups if g not in ("all", "ungrouped"))
    entry: dict = {
        "host": host,
        "groups": groups,
        "compliant": False,
        "client": None,
        "client_version": None,
        "services": {},
        "readers": [],
        "reboot_required": False,
        "problems": [],
        "warnings": [],
        "policies": None,
        "trusted_cas": None,
    }
    if not raw:
        entry["problems"].append(
            "no facts gathered: the host was unreachable, failed, or was not reached in this run"
        )
        return entry
    problems: list[str] = entry["problems"]
    warnings: list[str] = entry["warnings"]
    reboot = False

    client = raw.get("client")
    if client:
        name = client.get("name")
        entry["client"] = name
        found = installed_client(client.get("installed"), name) if name in CLIENTS else None
        entry["client_version"] = found["version"] if found else None
        label = CLIENT_LABELS.get(name, str(name))
        minimum = client.get("min_version") or None
        if found is None:
            problems.append(f"{label} is not installed")
        elif minimum:
            try:
                if not version_at_least(found["version"], minimum):
                    problems.append(
                        f"{label} {found['version']} is older than the required {minimum}"
                    )
            except ValueError:
                problems.append(
                    f"{label} version {found['version']!r} cannot be read; required {minimum}"
                )
        if name in CLIENTS:
            for other in client_conflicts(client.get("installed"), name):
                problems.append(
                    f"{other['name']} {other['version'] or ''}".rstrip()
                    + f" is installed next to {label}; do not mix smart-card client packages"
                )
        problems.extend(client.get("problems") or [])
        reboot = reboot or bool(client.get("reboot_required"))
    else:
        problems.append("no smart-card client facts (netid or siths_eid_app role did not run)")

    card = raw.get("smartcard")
    if card:
        services = {str(k): _service_view(v) for k, v in (card.get("services") or {}).items()}
        entry["services"] = services
        problems.extend(service_problems(card.get("rules") or [], services))
        readers = [str(r) for r in card.get("readers") or []]
        entry["readers"] = readers
        if not readers:
            (problems if require_reader else warnings).append("no smart-card reader is connected")
        problems.extend(card.get("problems") or [])
        reboot = reboot or bool(card.get("reboot_required"))
    else:
        problems.append("no smart-card service facts (smartcard role did not run)")

    browser = raw.get("browser")
    if browser:
        entry["policies"] = {
            "browsers": list(browser.get("browsers") or []),
            "values": int(browser.get("values") or 0),
            "pending": int(browser.get("pending") or 0),
        }
        if entry["policies"]["pending"]:
            problems.append(
                f"{entry['policies']['pending']} browser policy registry values"
                " differ from the desired state"
            )
        problems.extend(browser.get("problems") or [])
    else:
        problems.append("no browser policy facts (webcert_browser role did not run)")

    trust = raw.get("trust")
    if trust:
        present = {
            str(k).lower(): {str(t).upper() for t in v or []}
            for k, v in (trust.get("present") or {}).items()
        }
        missing = [
            c.get("subject") or c.get("thumbprint")
            for c in trust.get("expected") or []
            if str(c.get("thumbprint", "")).upper()
            not in present.get(str(c.get("store", "")).lower(), set())
        ]
        legacy = [c.get("subject") for c in trust.get("legacy") or []]
        entry["trusted_cas"] = {
            "expected": len(trust.get("expected") or []),
            "missing": missing,
            "legacy": legacy,
        }
        for name in missing:
            problems.append(f"SITHS CA certificate {name} is not trusted")
        for name in legacy:
            (problems if trust.get("remove_legacy") else warnings).append(
                f"legacy SITHS CA {name} is still trusted"
            )
        if not trust.get("expected"):
            warnings.append(
                "no SITHS CA certificates configured (siths_trust_certificates is empty)"
            )
    if reboot:
        problems.append(
            "a reboot is pending to finish an installation (workstation_allow_reboot is false)"
        )
    entry["reboot_required"] = reboot
    entry["compliant"] = not problems
    return entry


def build_report(hosts: Iterable[Mapping], generated: str) -> dict:
    """The ``workstations.json`` document (hosts sorted by name, with a summary)."""
    entries = sorted((dict(h) for h in hosts), key=lambda h: h["host"])
    compliant = sum(1 for h in entries if h.get("compliant"))
    return {
        "generated": generated,
        "hosts": entries,
        "summary": {
            "hosts": len(entries),
            "compliant": compliant,
            "non_compliant": len(entries) - compliant,
        },
    }
