"""One host's compliance entry and the ``workstations.json`` document (pure).

The raw facts the Windows roles gather become the contract of ``docs/architecture.md``.
Every problem and warning is a sentence for the clinic's IT staff and managers, in the current
language (``i18n.core.use_language``; Swedish by default), the technical detail last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..i18n.core import N_, _, ngettext
from .services import service_problems, service_view
from .versions import (
    CLIENT_LABELS,
    CLIENTS,
    client_conflicts,
    coexisting_clients,
    installed_client,
    version_at_least,
)


def evaluate_host(host: str, groups: Iterable[str], raw: Mapping | None, require_reader: bool = True) -> dict:
    """One host's entry in ``workstations.json`` from the raw facts the roles gathered.

    ``raw`` keys (each optional, written by one role):
    ``client``  {name, installed: [rows], min_version, package_type, md_pattern,
                 reboot_required, problems}
    ``netid_alongside`` the same for Net iD Enterprise kept next to the eID-app (SITHS Admin)
    ``reboot``  {pending: bool, reason, installer_rebooted} from the workstation_reboot role
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
            _("no facts gathered: the host was unreachable, failed, or was not reached in this run")
        )
        return entry
    problems: list[str] = entry["problems"]
    warnings: list[str] = entry["warnings"]
    reboot = False

    client = raw.get("client")
    if client:
        name = client.get("name")
        entry["client"] = name
        _judge_client(client, entry, problems, warnings)
        reboot = reboot or bool(client.get("reboot_required"))
    else:
        problems.append(
            _("no facts about the SITHS card software (for IT: the netid or siths_eid_app role did not run)")
        )
    alongside = raw.get("netid_alongside")
    if alongside:
        # Net iD Enterprise kept next to the standard eID-app (SITHS Admin PCs).
        found = _judge_client(alongside, None, problems, warnings)
        entry["netid_alongside"] = found["version"] if found else None
        reboot = reboot or bool(alongside.get("reboot_required"))

    card = raw.get("smartcard")
    if card:
        services = {str(k): service_view(v) for k, v in (card.get("services") or {}).items()}
        entry["services"] = services
        readers = [str(r) for r in card.get("readers") or []]
        problems.extend(service_problems(card.get("rules") or [], services, bool(readers)))
        entry["readers"] = readers
        if not readers:
            (problems if require_reader else warnings).append(_("no card reader is connected"))
        problems.extend(card.get("problems") or [])
        reboot = reboot or bool(card.get("reboot_required"))
    else:
        problems.append(_("no facts about the smart-card services (for IT: the smartcard role did not run)"))

    browser = raw.get("browser")
    if browser:
        entry["policies"] = {
            "browsers": list(browser.get("browsers") or []),
            "values": int(browser.get("values") or 0),
            "pending": int(browser.get("pending") or 0),
        }
        if entry["policies"]["pending"]:
            problems.append(
                ngettext(
                    "%(num)s browser policy registry value differs from the desired state",
                    "%(num)s browser policy registry values differ from the desired state",
                    entry["policies"]["pending"],
                )
            )
        problems.extend(browser.get("problems") or [])
    else:
        problems.append(
            _("no facts about the browser policies (for IT: the webcert_browser role did not run)")
        )

    trust = raw.get("trust")
    if trust:
        present = {
            str(k).lower(): {str(t).upper() for t in v or []} for k, v in (trust.get("present") or {}).items()
        }
        missing = [
            c.get("subject") or c.get("thumbprint")
            for c in trust.get("expected") or []
            if str(c.get("thumbprint", "")).upper() not in present.get(str(c.get("store", "")).lower(), set())
        ]
        legacy = [c.get("subject") for c in trust.get("legacy") or []]
        entry["trusted_cas"] = {
            "expected": len(trust.get("expected") or []),
            "missing": missing,
            "legacy": legacy,
        }
        for name in missing:
            problems.append(_("SITHS CA certificate %(name)s is not trusted", name=name))
        for name in legacy:
            (problems if trust.get("remove_legacy") else warnings).append(
                _("legacy SITHS CA %(name)s is still trusted", name=name)
            )
        if not trust.get("expected"):
            warnings.append(
                _(
                    "no SITHS CA certificates configured (for IT: siths_trust_root_certificates and"
                    " siths_trust_issuing_certificates are empty)"
                )
            )
    pending = raw.get("reboot") or {}
    if reboot or pending.get("pending"):
        reboot = True
        problems.append(
            _(
                "a restart is pending to finish an installation: %(reason)s",
                reason=pending.get("reason") or _("the host was not restarted in this run"),
            )
        )
    if pending.get("installer_rebooted"):
        warnings.append(_("an installer restarted the host itself (exit code 1641)"))
    entry["reboot_required"] = reboot
    entry["compliant"] = not problems
    return entry


# Why a host has no (complete) facts; playbooks/workstations.yml records one per failed host.
HOST_FAILURES = {
    "unreachable": N_("the host did not answer (for IT: unreachable): %(detail)s"),
    "failed": N_("the run failed on this host: %(detail)s"),
    "lost": N_(
        "the connection was lost during the run (for IT: unreachable mid-role); the state shown is"
        " from before the loss and the host must be run again"
    ),
}


def host_failure(detail: object, kind: str) -> str:
    """The problem sentence of a host that failed in the run, in the current language."""
    if kind not in HOST_FAILURES:
        raise ValueError(f"unknown host failure {kind!r} (one of {', '.join(HOST_FAILURES)})")
    return _(HOST_FAILURES[kind], detail="" if detail is None else str(detail))


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


def _judge_client(
    client: Mapping, entry: dict | None, problems: list[str], warnings: list[str]
) -> dict | None:
    """Installed version, minimum version and coexistence of one smart-card client."""
    name = client.get("name")
    package_type = client.get("package_type") or "standard"
    md_pattern = client.get("md_pattern") or None
    installed = client.get("installed")
    label = CLIENT_LABELS.get(name, str(name))
    found = None
    if name in CLIENTS:
        found = installed_client(
            installed, name, package_type if name == "siths_eid_app" else None, md_pattern
        )
    if entry is not None:
        entry["client_version"] = found["version"] if found else None
        if name == "siths_eid_app":
            entry["package_type"] = package_type
    minimum = client.get("min_version") or None
    if found is None:
        problems.append(_("%(client)s is not installed", client=label))
    elif minimum:
        try:
            if not version_at_least(found["version"], minimum):
                problems.append(
                    _(
                        "%(client)s %(version)s is older than the required %(minimum)s",
                        client=label,
                        version=found["version"],
                        minimum=minimum,
                    )
                )
        except ValueError:
            problems.append(
                _(
                    "the version of %(client)s (%(version)s) cannot be read; %(minimum)s is required",
                    client=label,
                    version=found["version"],
                    minimum=minimum,
                )
            )
    if name in CLIENTS:
        for other in client_conflicts(installed, name, package_type, md_pattern):
            problems.append(f"{other['name']} {other['version'] or ''}".rstrip() + f": {other['reason']}")
        for other in coexisting_clients(installed, name, package_type, md_pattern):
            if "netid_client" in (name, other["family"]):
                warnings.append(
                    _(
                        "%(other)s is installed next to %(client)s; Inera's coexistence rule covers"
                        " Net iD Enterprise only: check it on a pilot PC",
                        other=other["name"],
                        client=label,
                    )
                )
    problems.extend(client.get("problems") or [])
    return found
