"""Windows services the smart-card clients need, and how to judge win_service_info (pure).

``ansible.windows.win_service_info`` reports ``state`` as ``started``, ``stopped``,
``start_pending``, ``stop_pending``, ``continue_pending``, ``pause_pending`` or
``paused`` and ``start_mode`` as ``auto``, ``delayed``, ``manual``, ``disabled``,
``boot`` or ``system`` (see its .ps1 in the installed collection;
tests/unit/test_windows_module_contract.py keeps these in step). Problems are sentences in the
current language (``i18n.core``; Swedish by default); a rule's reason is a msgid (``N_``)
translated when a problem names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from ..i18n.core import N_, _
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
# How a sentence names the states and start modes the roles enforce or commonly see.
STATE_LABELS = {"started": N_("running"), "stopped": N_("stopped"), "missing": N_("missing")}
START_MODE_LABELS = {
    "auto": N_("automatic"),
    "delayed": N_("automatic (delayed start)"),
    "manual": N_("manual"),
    "disabled": N_("disabled"),
}


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
            N_("the Smart Card service must run for any card reader"),
        )
    ]
    mode = certprop
    reason = N_("set by IT")
    if certprop == "auto":
        mode = "unmanaged"
        if client == "siths_eid_app" and md_package:
            mode, reason = (
                "disabled",
                N_("the SITHS eID-app MD package requires Certificate Propagation to be disabled"),
            )
        elif netid_certmover:
            # Net iD Enterprise's CertMover, also where Net iD runs next to the eID-app.
            mode, reason = "disabled", N_("Net iD CertMover conflicts with Certificate Propagation")
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
                N_("pulling the SITHS card locks the screen (for IT: Smart Card Removal Policy)"),
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
        why = _(r.reason) if r.reason else ""
        if seen["state"] == "missing":
            if r.state == "started":
                problems.append(_("service %(name)s is missing (%(reason)s)", name=r.name, reason=why))
            continue
        if r.name in READER_TRIGGERED and not readers_present and seen["state"] == "stopped":
            seen = dict(seen, state=r.state)
        # The rule speaks win_service's words (started/stopped), and so does win_service_info.
        if seen["state"] != r.state:
            problems.append(
                _(
                    "service %(name)s is %(state)s, expected %(wanted)s (%(reason)s)",
                    name=r.name,
                    state=_label(STATE_LABELS, seen["state"]),
                    wanted=_label(STATE_LABELS, r.state),
                    reason=why,
                )
            )
        mode = seen["start_mode"]
        delayed_auto = r.start_mode == "auto" and mode == "delayed"
        if mode is not None and mode != r.start_mode and not delayed_auto:
            problems.append(
                _(
                    "service %(name)s start mode is %(mode)s, expected %(wanted)s (%(reason)s)",
                    name=r.name,
                    mode=_label(START_MODE_LABELS, mode),
                    wanted=_label(START_MODE_LABELS, r.start_mode),
                    reason=why,
                )
            )
    return problems


def _label(labels: Mapping[str, str], value: str) -> str:
    """A state or start mode in the current language (the module's own word when unknown)."""
    return _(labels[value]) if value in labels else str(value)


def _lookup_ci(mapping: Mapping[str, Mapping], key: str) -> Mapping | None:
    for name, value in mapping.items():
        if name.lower() == key.lower():
            return value
    return None
