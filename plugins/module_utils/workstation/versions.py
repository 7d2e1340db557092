"""Version rules for the smart-card clients (pure, no I/O).

* version parsing and comparison (``6.7 < 6.10``, ``2.0.8481 < 2.0.10000``);
* Inera's minimum versions per client and platform;
* which installed package belongs to which client family, coexistence and conflicts;
* whether a client must be installed or upgraded.

Errors are values: :class:`Problem` carries a dotted path and a message. The reasons of
conflicts and install decisions are in the current language (``i18n.core``; Swedish by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..i18n.core import N_, _

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

PACKAGE_TYPES = ("standard", "md")
# How a sentence names each packaging of the SITHS eID-app.
PACKAGE_LABELS = {"standard": N_("the standard package"), "md": N_("the MD package")}

# Which SITHS eID-app uninstall entries are the MD (minidriver) packaging. Inera publishes the
# MD package as a separate download; the DisplayName it registers is checked on the pilot PC
# (docs/workstations.md, pilot-PC checklist) and can be overridden per host group.
DEFAULT_MD_PATTERN = r"\bMD\b|minidriver"


_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")
_MSI_CODE = re.compile(r"^\{[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}$")


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
        raise ValueError(_("%(text)s is not a version (write it like 6.7 or 2.0.8481)", text=repr(text)))
    if isinstance(text, int | float):
        text = str(text)
    if not isinstance(text, str):
        raise ValueError(_("%(text)s is not a version (write it like 6.7 or 2.0.8481)", text=repr(text)))
    match = _VERSION.match(text)
    if not match:
        raise ValueError(_("%(text)s is not a version (write it like 6.7 or 2.0.8481)", text=repr(text)))
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


def _product_list(installed: Iterable[Mapping] | Mapping | None, md_pattern: str | None = None) -> list[dict]:
    if installed is None:
        return []
    if isinstance(installed, Mapping):
        installed = [installed]
    md = re.compile(md_pattern or DEFAULT_MD_PATTERN, re.IGNORECASE)
    products = []
    for item in installed:
        if not isinstance(item, Mapping):
            continue
        name = str(item.get("name") or item.get("DisplayName") or "")
        version = item.get("version", item.get("DisplayVersion"))
        product_id = item.get("product_id", item.get("PSChildName"))
        family = product_family(name)
        products.append(
            {
                "name": name,
                "version": None if version in (None, "") else str(version),
                "product_id": None if product_id in (None, "") else str(product_id),
                "family": family,
                "package_type": (
                    ("md" if md.search(name) else "standard") if family == "siths_eid_app" else None
                ),
                # Windows Installer package (uninstall = msiexec /x {code} /qn, see win_package.ps1)
                "msi": bool(item.get("msi")) or bool(_MSI_CODE.match(str(product_id or ""))),
                "quiet_uninstall": bool(item.get("quiet_uninstall")),
            }
        )
    return products


def normalise_products(
    installed: Iterable[Mapping] | Mapping | None, md_pattern: str | None = None
) -> list[dict]:
    """Uninstall-key rows (``DisplayName``/``DisplayVersion``/``PSChildName`` or
    ``name``/``version``/``product_id``) as
    ``{name, version, product_id, family, package_type, msi, quiet_uninstall}``."""
    return _product_list(installed, md_pattern)


def installed_client(
    installed: Iterable[Mapping] | Mapping | None,
    client: str,
    package_type: str | None = None,
    md_pattern: str | None = None,
) -> dict | None:
    """The installed package of ``client`` with the highest parseable version, or None.
    With ``package_type`` (SITHS eID-app) only that packaging counts."""
    best: dict | None = None
    for product in _product_list(installed, md_pattern):
        if product["family"] != client:
            continue
        if package_type and product["package_type"] not in (None, package_type):
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


def client_conflicts(
    installed: Iterable[Mapping] | Mapping | None,
    client: str,
    package_type: str = "standard",
    md_pattern: str | None = None,
) -> list[dict]:
    """Installed smart-card client packages that must not live next to ``client``.

    Inera's rule ("Avveckling och samexistens med Net iD Enterprise", the SITHS eID-app
    download page; docs/workstations.md has the table):

    * the *standard* SITHS eID-app 2.x and Net iD Enterprise may run together (PCs used for
      SITHS Admin keep Net iD);
    * the *MD* (minidriver) package must not be combined with Net iD (Enterprise or Client);
    * "blanda inte paket": an installed eID-app of the other packaging (standard <-> MD) is
      replaced by uninstall -> reboot -> install (``kind: switch``);
    * Net iD Enterprise and Net iD Client are alternatives to each other.

    Returns the conflicting products, each with ``kind`` (``conflict`` or ``switch``) and a
    ``reason`` sentence (empty list = nothing in the way).
    """
    if client not in CLIENTS:
        raise ValueError(_("unknown client %(client)s (choose one of %(clients)s)",
                           client=repr(client), clients=", ".join(CLIENTS)))
    if package_type not in PACKAGE_TYPES:
        raise ValueError(_("package type %(type)s must be standard or md", type=repr(package_type)))
    products = _product_list(installed, md_pattern)
    found = []
    for product in products:
        family = product["family"]
        kind = reason = None
        if family is None or (family == client and client != "siths_eid_app"):
            continue
        if client == "siths_eid_app":
            if family == "siths_eid_app":
                if product["package_type"] != package_type:
                    kind = "switch"
                    reason = _(
                        "%(name)s is %(installed)s and this host should have %(wanted)s:"
                        " uninstall, reboot, install",
                        name=product["name"],
                        installed=_package(product["package_type"]),
                        wanted=_package(package_type),
                    )
            elif package_type == "md":
                kind = "conflict"
                reason = _(
                    "%(name)s must not be combined with the SITHS eID-app MD package", name=product["name"]
                )
        elif family == "siths_eid_app":
            if product["package_type"] == "md":
                kind = "conflict"
                reason = _("%(name)s (MD package) must not be combined with Net iD", name=product["name"])
        elif family != client:
            kind = "conflict"
            reason = _(
                "%(name)s and %(client)s are alternatives; keep one",
                name=product["name"],
                client=CLIENT_LABELS[client],
            )
        if kind:
            found.append({**product, "kind": kind, "reason": reason})
    return found


def coexisting_clients(
    installed: Iterable[Mapping] | Mapping | None,
    client: str,
    package_type: str = "standard",
    md_pattern: str | None = None,
) -> list[dict]:
    """Other smart-card clients installed next to ``client`` that do not block it
    (the standard eID-app with Net iD Enterprise)."""
    blocking = {
        (p["name"], p["product_id"]) for p in client_conflicts(installed, client, package_type, md_pattern)
    }
    return [
        p
        for p in _product_list(installed, md_pattern)
        if p["family"] not in (None, client) and (p["name"], p["product_id"]) not in blocking
    ]


def install_decision(
    installed: Iterable[Mapping] | Mapping | None,
    client: str,
    minimum: str | None,
    target: str | None,
    package_type: str | None = None,
    md_pattern: str | None = None,
) -> dict:
    """Whether the client must be installed or upgraded.

    ``minimum`` is the lowest acceptable version (None = any), ``target`` the
    version the operator's installer carries (None = no installer supplied).
    ``package_type`` (SITHS eID-app only) is the wanted packaging: an eID-app of the
    other packaging does not count as installed, and the action is ``switch``
    (uninstall it, reboot, install this one).
    Returns ``{action: none|install|upgrade|switch|blocked, current, reason}``;
    ``blocked`` means an action is needed but the supplied installer cannot satisfy it.
    """
    label = CLIENT_LABELS.get(client, client)
    current = installed_client(installed, client, package_type, md_pattern)
    other = None
    if client == "siths_eid_app" and package_type and current is None:
        other = installed_client(installed, client, None, md_pattern)
    current_version = current["version"] if current else None
    if other is not None:
        names = {
            "name": other["name"],
            "installed": _package(other["package_type"]),
            "wanted": _package(package_type),
        }
        if target is None:
            return _decision(
                "blocked",
                other["version"],
                _(
                    "%(name)s is %(installed)s, this host should have %(wanted)s,"
                    " and no installer is supplied",
                    **names,
                ),
            )
        return _decision(
            "switch",
            other["version"],
            _(
                "%(name)s is %(installed)s; this host should have %(wanted)s (uninstall, reboot, install)",
                **names,
            ),
        )
    if current is None:
        if target is None:
            return _decision(
                "blocked", None, _("%(client)s is not installed and no installer is supplied", client=label)
            )
        if minimum and not version_at_least(target, minimum):
            return _decision(
                "blocked",
                None,
                _(
                    "the supplied installer (%(target)s) is older than %(minimum)s",
                    target=target,
                    minimum=minimum,
                ),
            )
        return _decision("install", None, _("%(client)s is not installed", client=label))
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
        words = {"client": label, "current": current_version, "minimum": minimum, "target": target}
        if target is None:
            return _decision(
                "blocked",
                current_version,
                _("%(client)s %(current)s is older than %(minimum)s and no installer is supplied", **words),
            )
        if minimum and not version_at_least(target, minimum):
            return _decision(
                "blocked",
                current_version,
                _("the supplied installer (%(target)s) is older than %(minimum)s", **words),
            )
        if too_old:
            return _decision(
                "upgrade", current_version, _("%(client)s %(current)s is older than %(minimum)s", **words)
            )
        return _decision(
            "upgrade",
            current_version,
            _("%(client)s %(current)s is older than the supplied %(target)s", **words),
        )
    return _decision(
        "none",
        current_version,
        _("%(client)s %(current)s is installed", client=label, current=current_version),
    )


def _decision(action: str, current: str | None, reason: str) -> dict:
    return {"action": action, "current": current, "reason": reason}


def _package(package_type: str | None) -> str:
    """``the standard package`` / ``the MD package`` in the current language."""
    label = PACKAGE_LABELS.get(str(package_type))
    return _(label) if label else str(package_type)
