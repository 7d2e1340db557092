"""Windows services the smart-card clients need, and how to judge win_service_info (pure).

``ansible.windows.win_service_info`` reports ``state`` as ``started``, ``stopped``,
``start_pending``, ``stop_pending``, ``continue_pending``, ``pause_pending`` or
``paused`` and ``start_mode`` as ``auto``, ``delayed``, ``manual``, ``disabled``,
``boot`` or ``system`` (see its .ps1 in the installed collection;
tests/unit/test_windows_module_contract.py keeps these in step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from .versions import CLIENTS

# Values win_service_info can return (its .ps1: the ``$state`` and ``$startType`` switches).
SERVICE_STATES = (
    "stopped",
    "start_pending",
    "stop_pending",
    "started",
    "continue_pending",
    "pause_pending",
    "paused",
)
START_MODES = ("boot", "system", "auto", "manual", "disabled", "delayed")


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
        elif netid_certmover:
            # Net iD Enterprise's CertMover, also where Net iD runs next to the eID-app.
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


def service_view(info: Mapping | None) -> dict:
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
            result[str(svc["name"])] = service_view(svc)
    return result


# Windows starts the Smart Card service when a reader arrives and stops it again a while after
# the last reader is removed (trigger start), even with start mode Automatic. Without a reader
# a stopped SCardSvr is therefore normal, and the role does not start it (that would report a
# change on every run).
READER_TRIGGERED = ("SCardSvr",)


def service_problems(
    rules: Iterable[ServiceRule | Mapping],
    services: Mapping[str, Mapping],
    readers_present: bool = True,
) -> list[str]:
    problems = []
    for rule in rules:
        r = rule if isinstance(rule, ServiceRule) else ServiceRule(**rule)
        seen = service_view(_lookup_ci(services, r.name))
        if seen["state"] == "missing":
            if r.state == "started":
                problems.append(f"service {r.name} is missing ({r.reason})")
            continue
        if r.name in READER_TRIGGERED and not readers_present and seen["state"] == "stopped":
            seen = dict(seen, state=r.state)
        # The rule speaks win_service's words (started/stopped), and so does win_service_info.
        if seen["state"] != r.state:
            problems.append(f"service {r.name} is {seen['state']}, expected {r.state} ({r.reason})")
        mode = seen["start_mode"]
        delayed_auto = r.start_mode == "auto" and mode == "delayed"
        if mode is not None and mode != r.start_mode and not delayed_auto:
            problems.append(f"service {r.name} start mode is {mode}, expected {r.start_mode} ({r.reason})")
    return problems


def _lookup_ci(mapping: Mapping[str, Mapping], key: str) -> Mapping | None:
    for name, value in mapping.items():
        if name.lower() == key.lower():
            return value
    return None
