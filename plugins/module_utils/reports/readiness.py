"""Will each person be able to log in and sign in Webcert? (pure, no I/O)

``build_readiness(desired, actual, today, certificates=None, workstations=None)`` combines

* ``actual``: the directory as read from LDAP (a ProviderModel whose origins are DNs). This
  is the truth: Webcert reads HSA, not the YAML.
* ``desired``: the provider description (YAML). Only used to say *where to fix* a problem
  (``units/norr.yml:4``) and whether the directory has drifted from the description, plus
  what only the YAML knows: who is expected to use Webcert, the expected role, the
  onboarding steps and each unit's workstation host group.
* ``certificates``: the ``siths.json`` findings (docs/architecture.md), optional.
* ``workstations``: the ``workstations.json`` summary, optional.

and returns plain data (JSON-ready dicts): ``people``, ``units``, ``provider``,
``summary`` and ``exit``. Every problem is ``{"message", "fix"}`` in plain words.
Blocking problems are in ``problems``; things that will not stop a login today (a
certificate that expires soon, a check that was not run) are in ``warnings``.
"""

from __future__ import annotations

from datetime import date

from ..description.webcert_roles import (
    CARE_PURPOSE,
    POSITION_GROUP_PAIRS,
    ROLE_LABELS,
    is_active,
    is_care_commission,
    resolve_role,
)

READY = "ready"
WARNING = "warning"
BLOCKED = "blocked"
STATUS_ORDER = {BLOCKED: 0, WARNING: 1, READY: 2}
STATUS_LABELS = {READY: "Ready", WARNING: "Warning", BLOCKED: "Blocked"}

RUN_HSA = "run playbooks/hsa.yml"
REGISTRATION_URL = "https://etjanster.inera.se/ForfraganTjanst"
ORDER_URL = "https://bestallningsstod.tjansteplattform.se/"


# --------------------------------------------------------------------------- helpers


def problem(message: str, fix: str) -> dict:
    return {"message": message, "fix": fix}


def where(obj) -> str:
    """``units/norr.yml:4`` for an object from the YAML; the DN for one from the directory."""
    origin = getattr(obj, "origin", None)
    if origin is None:
        return "the provider description"
    return f"{origin.file}:{origin.line}" if origin.line else origin.file


def _status(problems, warnings) -> str:
    if problems:
        return BLOCKED
    return WARNING if warnings else READY


def worst(statuses) -> str:
    statuses = list(statuses)
    return min(statuses, key=STATUS_ORDER.__getitem__) if statuses else READY


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _person_name(person) -> str:
    if person is None:
        return ""
    full = getattr(person, "full_name", None)
    if full:
        return full
    return " ".join(x for x in (person.given_name, person.surname) if x)


def _unit_label(unit, hsa_id: str) -> str:
    return f"{unit.name} ({hsa_id})" if unit is not None and unit.name else hsa_id


def _index(model, attr: str) -> dict:
    if model is None:
        return {}
    return {o.hsa_id: o for o in getattr(model, attr)}


# --------------------------------------------------------------------------- provider


def provider_readiness(desired, actual) -> dict:
    dprov = desired.provider if desired is not None else None
    aprov = actual.provider if actual is not None else None
    name = (aprov.name if aprov else None) or (dprov.name if dprov else "") or ""
    hsa_id = (aprov.hsa_id if aprov else None) or (dprov.hsa_id if dprov else "") or ""
    problems: list[dict] = []
    warnings: list[dict] = []
    if aprov is None:
        if dprov is not None:
            fix = (f"the description has it ({where(dprov)}) but the directory does not: "
                   f"{RUN_HSA}")
        else:
            fix = "register the care provider in HSA (HSA Admin or your HSA agent)"
        problems.append(problem(f"care provider {name or hsa_id} is not in the HSA directory", fix))
    elif not aprov.org_no:
        if dprov is not None and dprov.org_no:
            fix = (f"the description has org_no {dprov.org_no} ({where(dprov)}) but the "
                   f"directory has drifted: {RUN_HSA} to write it")
        elif dprov is not None:
            fix = f"add `org_no` to the provider in {where(dprov)} and {RUN_HSA}"
        else:
            fix = "add the organisationsnummer (orgNo) in HSA Admin or ask your HSA agent"
        problems.append(problem(
            f"care provider {name} has no organisationsnummer (orgNo) in HSA; "
            "Webcert requires it", fix))

    onboarding = dprov.onboarding if dprov is not None else None
    steps = onboarding_steps(onboarding, dprov)
    open_steps = [s for s in steps if not s["done"]]
    for s in open_steps:
        warnings.append(problem(f"manual step still open: {s['title']}", s["fix"]))
    return {
        "hsa_id": hsa_id,
        "name": name,
        "in_directory": aprov is not None,
        "org_no": aprov.org_no if aprov else None,
        "onboarding": steps,
        "open_steps": len(open_steps),
        "status": _status(problems, warnings),
        "problems": problems,
        "warnings": warnings,
        "source": where(dprov) if dprov is not None else None,
    }


def onboarding_steps(onboarding, dprov) -> list[dict]:
    """The three manual prerequisites of Inera's guide, done or open, as the YAML records them."""
    at = where(onboarding) if onboarding is not None else (
        where(dprov) if dprov is not None else "the provider description")
    reg = getattr(onboarding, "registration_sent", None)
    agr = getattr(onboarding, "agreement_signed", None)
    order = getattr(onboarding, "technical_order", None)
    return [
        {
            "step": "registration",
            "title": "registration (anmälan) for Webcert Fristående sent to Inera",
            "done": reg is not None,
            "value": _iso(reg),
            "fix": f"send the registration at {REGISTRATION_URL}, then set "
                   f"`onboarding.registration_sent` (date) in {at}",
        },
        {
            "step": "agreement",
            "title": "agreement (avtal) with Inera signed",
            "done": agr is not None,
            "value": _iso(agr),
            "fix": "sign the agreement Inera sends after the registration, then set "
                   f"`onboarding.agreement_signed` (date) in {at}",
        },
        {
            "step": "technical_order",
            "title": "technical order placed in Inera's beställningsstöd",
            "done": bool(order),
            "value": order,
            "fix": f"log in with a SITHS card at {ORDER_URL} and follow "
                   "\"Beställningsstödet — Intygstjänster Webcert Fristående\", then set "
                   f"`onboarding.technical_order` (the order reference) in {at}",
        },
    ]


# --------------------------------------------------------------------------- units


def _workstations_by_group(workstations: dict | None) -> dict[str, list[dict]]:
    by_group: dict[str, list[dict]] = {}
    if not workstations:
        return by_group
    for host in workstations.get("hosts") or []:
        for group in host.get("groups") or []:
            by_group.setdefault(group, []).append(host)
    return by_group


def _unit_workstations(dunit, by_group, have_report: bool) -> dict | None:
    group = dunit.host_group if dunit is not None else None
    if not group or not have_report:
        return {"host_group": group, "checked": False, "compliant": [], "not_compliant": []} \
            if group else None
    hosts = sorted(by_group.get(group, []), key=lambda h: str(h.get("host", "")))
    return {
        "host_group": group,
        "checked": True,
        "compliant": [h.get("host") for h in hosts if h.get("compliant")],
        "not_compliant": [
            {"host": h.get("host"), "problems": list(h.get("problems") or [])}
            for h in hosts if not h.get("compliant")
        ],
    }


def _missing_unit_attr(label: str, field: str, attr: str, unit_name: str, dunit,
                       desired_value) -> dict:
    message = f"unit {unit_name} has no {label} ({attr}) in HSA; Webcert requires it"
    if dunit is not None and desired_value:
        fix = (f"the description has it ({where(dunit)}) but the directory has drifted: "
               f"{RUN_HSA} to write it")
    elif dunit is not None:
        fix = f"add `{field}` to the unit in {where(dunit)} and {RUN_HSA}"
    else:
        fix = (f"the unit is not in the provider description; add it there with `{field}` "
               f"and {RUN_HSA}, or add {attr} in HSA Admin")
    return problem(message, fix)


def unit_readiness(hsa_id: str, dunit, aunit, actual, today: date, ws: dict | None) -> dict:
    name = (aunit.name if aunit else None) or (dunit.name if dunit else "") or hsa_id
    problems: list[dict] = []
    warnings: list[dict] = []
    commissions: list[dict] = []
    if aunit is None:
        fix = (f"the description has it ({where(dunit)}) but the directory does not: {RUN_HSA}"
               if dunit is not None else "register the unit in HSA")
        problems.append(problem(f"unit {name} ({hsa_id}) is not in the HSA directory", fix))
    else:
        if not aunit.email:
            problems.append(_missing_unit_attr(
                "e-postadress", "email", "mail", name, dunit, dunit.email if dunit else None))
        if not aunit.workplace_codes:
            problems.append(_missing_unit_attr(
                "arbetsplatskod", "workplace_codes", "unitPrescriptionCode", name, dunit,
                dunit.workplace_codes if dunit else None))
        for c in actual.commissions if actual is not None else ():
            if c.unit != hsa_id:
                continue
            commissions.append({
                "hsa_id": c.hsa_id,
                "name": c.name,
                "purpose": c.purpose,
                "care": is_care_commission(c.purpose),
                "active": is_active(c, today),
                "valid_from": _iso(c.valid_from),
                "valid_to": _iso(c.valid_to),
                "members": len(c.members),
            })
        if not any(c["care"] and c["active"] for c in commissions):
            at = f" in {where(dunit)}" if dunit is not None else ""
            warnings.append(problem(
                f"unit {name} has no active commission with purpose \"{CARE_PURPOSE}\"; "
                "nobody can act for it in Webcert",
                f"add a commission (medarbetaruppdrag) with purpose \"{CARE_PURPOSE}\"{at} "
                f"and {RUN_HSA}"))
    if ws is not None and ws["checked"]:
        if not ws["compliant"] and not ws["not_compliant"]:
            warnings.append(problem(
                f"no workstation of unit {name} is in the workstation report "
                f"(host group {ws['host_group']})",
                f"put the unit's PCs in inventory group {ws['host_group']} and run "
                "playbooks/workstations.yml"))
        for h in ws["not_compliant"]:
            detail = "; ".join(h["problems"]) or "not compliant"
            warnings.append(problem(
                f"workstation {h['host']} is not ready for Webcert: {detail}",
                f"run playbooks/workstations.yml --limit {h['host']}"))
    return {
        "hsa_id": hsa_id,
        "name": name,
        "in_directory": aunit is not None,
        "in_description": dunit is not None,
        "source": where(dunit) if dunit is not None else None,
        "dn": where(aunit) if aunit is not None else None,
        "email": aunit.email if aunit else None,
        "workplace_codes": list(aunit.workplace_codes) if aunit else [],
        "parent": (aunit.parent if aunit else None) or (dunit.parent if dunit else None),
        "commissions": commissions,
        "workstations": ws,
        "people_ready": [],
        "people_not_ready": [],
        "status": _status(problems, warnings),
        "problems": problems,
        "warnings": warnings,
    }


# --------------------------------------------------------------------------- people


def certificates_by_person(certificates: dict | None) -> dict[str, dict] | None:
    """siths.json's people indexed by HSA-id (the first entry wins), or None if unchecked."""
    if certificates is None:
        return None
    index: dict[str, dict] = {}
    for entry in certificates.get("people") or []:
        index.setdefault(entry.get("hsa_id"), entry)
    return index


def certificate_status(hsa_id: str, certificates: dict[str, dict] | None
                       ) -> tuple[dict, list, list]:
    """(certificate summary, blocking problems, warnings) for one person.

    ``certificates`` is the index made by :func:`certificates_by_person`.
    """
    if certificates is None:
        return ({"status": "unknown", "checked": False}, [], [problem(
            "SITHS certificates were not checked",
            "run playbooks/siths.yml before the readiness report (it writes siths.json)")])
    entry = certificates.get(hsa_id)
    if entry is None:
        return ({"status": "unknown", "checked": False}, [], [problem(
            "the person is not in the certificate report (siths.json)",
            "run playbooks/siths.yml again with the current provider description")])

    def brief(cert):
        if not cert:
            return None
        return {k: cert.get(k) for k in ("serial_number", "issuer", "not_after", "days_left",
                                         "chain_ok", "revoked", "legacy")}

    summary = {
        "status": entry.get("status", "unknown"),
        "checked": True,
        "auth": brief(entry.get("auth")),
        "sign": brief(entry.get("sign")),
        "problems": list(entry.get("problems") or []),
        "warnings": list(entry.get("warnings") or []),
    }
    card = "order a new SITHS card or new certificates from your SITHS administrator " \
           "(or renew at minasidor.siths.se), then run playbooks/siths.yml"
    problems = [problem(f"SITHS certificate: {p}", card) for p in summary["problems"]]
    if summary["status"] == "error" and not problems:
        problems.append(problem("no valid SITHS certificate pair (authentication + signing)",
                                card))
    warnings = [problem(f"SITHS certificate: {w}", "renew the certificates in good time "
                        "(minasidor.siths.se or your SITHS administrator)")
                for w in summary["warnings"]]
    return summary, problems, warnings


def _role_fix(expected: str, dperson, desired_role) -> str:
    if dperson is None:
        return "describe the person in the provider description and " + RUN_HSA
    if desired_role is not None and desired_role.role == expected:
        return (f"the description gives {ROLE_LABELS[expected]} ({where(dperson)}) but the "
                f"directory has drifted: {RUN_HSA}")
    at = where(dperson)
    codes = set(dperson.position_codes)
    for position, pairs in POSITION_GROUP_PAIRS.items():
        if position in codes and not set(pairs) & set(dperson.group_prescriber_codes):
            options = " or ".join(sorted(pairs))
            return (f"befattningskod {position} counts as a doctor only together with "
                    f"gruppförskrivarkod {options}: add it to `group_prescriber_codes` in {at} "
                    f"and {RUN_HSA}")
    if expected == "LAKARE":
        return (f"add title \"Läkare\" to `titles`, or befattningskod 204010 (AT) / 203020 (BT) "
                f"to `positions`, in {at} and {RUN_HSA}")
    if expected in ("TANDLAKARE", "BARNMORSKA", "SJUKSKOTERSKA"):
        return (f"add title \"{ROLE_LABELS[expected]}\" to `titles` in {at} and {RUN_HSA}")
    return f"correct `expected_role` or the titles and positions in {at}"


def _commission_fix(hsa_id: str, dperson, desired, today: date) -> str:
    if desired is not None:
        for c in desired.commissions_of(hsa_id):
            if is_care_commission(c.purpose) and is_active(c, today):
                return (f"the description lists the person in commission {c.name} "
                        f"({where(c)}) but the directory has drifted: {RUN_HSA}")
    at = where(dperson) if dperson is not None else "the provider description"
    return (f"add {hsa_id} to `members` of a commission with purpose \"{CARE_PURPOSE}\" on "
            f"the person's unit (see {at}) and {RUN_HSA}")


def _commission_details(commissions, actual, today: date) -> list[str]:
    notes = []
    for c in commissions:
        if not is_care_commission(c.purpose):
            notes.append(f"{c.name} has purpose \"{c.purpose}\"")
        elif not is_active(c, today):
            if c.valid_to is not None and today > c.valid_to:
                notes.append(f"{c.name} ended {c.valid_to.isoformat()}")
            elif c.valid_from is not None:
                notes.append(f"{c.name} starts {c.valid_from.isoformat()}")
        elif actual.unit(c.unit) is None:
            notes.append(f"{c.name} is on unit {c.unit or '?'}, which is not in HSA")
    return notes


def person_readiness(hsa_id: str, dperson, aperson, desired, actual, today: date,
                     certificates, provider: dict, units: dict) -> dict:
    name = _person_name(aperson) or _person_name(dperson) or hsa_id
    uses_webcert = dperson.uses_webcert if dperson is not None else True
    expected_role = dperson.expected_role if dperson is not None else None
    problems: list[dict] = []
    warnings: list[dict] = []
    role = None
    unit_ids: list[str] = []
    if provider["problems"]:
        problems.extend(provider["problems"])

    if aperson is None:
        fix = (f"the description has the person ({where(dperson)}) but the directory does "
               f"not: {RUN_HSA}") if dperson is not None else "register the person in HSA"
        problems.append(problem(f"{name} ({hsa_id}) is not in the HSA directory", fix))
    else:
        role = resolve_role(aperson.titles, aperson.position_codes,
                            aperson.group_prescriber_codes)
        mine = actual.commissions_of(hsa_id)
        usable = [c for c in mine if is_care_commission(c.purpose) and is_active(c, today)
                  and actual.unit(c.unit) is not None]
        unit_ids = sorted({c.unit for c in usable})
        if not unit_ids:
            notes = _commission_details(mine, actual, today)
            detail = f" ({'; '.join(notes)})" if notes else ""
            problems.append(problem(
                f"{name} has no active commission (medarbetaruppdrag) with purpose "
                f"\"{CARE_PURPOSE}\" in HSA{detail}",
                _commission_fix(hsa_id, dperson, desired, today)))
        else:
            broken = [u for u in unit_ids if units.get(u) and units[u]["problems"]]
            for u in broken:
                for p in units[u]["problems"]:
                    entry = problem(p["message"], p["fix"])
                    (problems if len(broken) == len(unit_ids) else warnings).append(entry)
            for u in unit_ids:
                ws = (units.get(u) or {}).get("workstations")
                if ws and ws["checked"] and not ws["compliant"]:
                    warnings.append(problem(
                        f"no compliant workstation at unit {units[u]['name']}",
                        f"run playbooks/workstations.yml for host group {ws['host_group']}"))
        if expected_role and role.role != expected_role:
            desired_role = None
            if dperson is not None:
                desired_role = resolve_role(dperson.titles, dperson.position_codes,
                                            dperson.group_prescriber_codes)
            problems.append(problem(
                f"{name} is expected to be {ROLE_LABELS.get(expected_role, expected_role)} "
                f"but Webcert will make them {ROLE_LABELS[role.role]} ({role.reason})",
                _role_fix(expected_role, dperson, desired_role)))

    cert, cert_problems, cert_warnings = certificate_status(hsa_id, certificates)
    problems.extend(cert_problems)
    warnings.extend(cert_warnings)
    if dperson is None:
        warnings.append(problem(
            f"{name} is in the directory but not in the provider description",
            "add the person to the description (or ignore this if someone else manages them)"))

    rehab_units = unit_ids if role is not None and role.role == "LAKARE" else []
    return {
        "hsa_id": hsa_id,
        "name": name,
        "uses_webcert": uses_webcert,
        "in_directory": aperson is not None,
        "in_description": dperson is not None,
        "source": where(dperson) if dperson is not None else None,
        "dn": where(aperson) if aperson is not None else None,
        "unit_ids": unit_ids,
        "units": [{"hsa_id": u, "name": (units.get(u) or {}).get("name", u)} for u in unit_ids],
        "role": role.role if role else None,
        "role_label": ROLE_LABELS[role.role] if role else None,
        "role_rule": role.rule if role else None,
        "role_reason": role.reason if role else "not in the directory",
        "expected_role": expected_role,
        "expected_role_label": ROLE_LABELS.get(expected_role, expected_role)
        if expected_role else None,
        "rehabstod": bool(rehab_units),
        "rehabstod_units": list(rehab_units),
        "certificates": cert,
        "status": _status(problems, warnings),
        "problems": problems,
        "warnings": warnings,
    }


# --------------------------------------------------------------------------- whole report


def build_readiness(desired, actual, today: date, certificates: dict | None = None,
                    workstations: dict | None = None, generated: str | None = None) -> dict:
    """Readiness of every person, unit and the provider (see the module docstring)."""
    provider = provider_readiness(desired, actual)

    dunits, aunits = _index(desired, "units"), _index(actual, "units")
    by_group = _workstations_by_group(workstations)
    units: dict[str, dict] = {}
    for hsa_id in list(dunits) + [u for u in aunits if u not in dunits]:
        ws = _unit_workstations(dunits.get(hsa_id), by_group, workstations is not None)
        units[hsa_id] = unit_readiness(hsa_id, dunits.get(hsa_id), aunits.get(hsa_id),
                                       actual, today, ws)

    dpeople, apeople = _index(desired, "people"), _index(actual, "people")
    cert_index = certificates_by_person(certificates)
    people = []
    for hsa_id in list(dpeople) + [p for p in apeople if p not in dpeople]:
        people.append(person_readiness(hsa_id, dpeople.get(hsa_id), apeople.get(hsa_id),
                                       desired, actual, today, cert_index, provider, units))
    people.sort(key=lambda p: (STATUS_ORDER[p["status"]], p["name"].casefold(), p["hsa_id"]))

    for p in people:
        for u in p["unit_ids"]:
            key = "people_ready" if p["status"] != BLOCKED else "people_not_ready"
            units[u][key].append(p["hsa_id"])
    # A person whose home unit (where the entry lives) gives no commission still counts there.
    for p in people:
        if p["unit_ids"] or p["status"] != BLOCKED:
            continue
        home = (dpeople.get(p["hsa_id"]) or apeople.get(p["hsa_id"]))
        if home is not None and home.unit in units:
            units[home.unit]["people_not_ready"].append(p["hsa_id"])

    unit_list = sorted(units.values(), key=lambda u: (u["name"].casefold(), u["hsa_id"]))
    expected = [p for p in people if p["uses_webcert"]]
    blocked = [p for p in expected if p["status"] == BLOCKED]
    summary = {
        "people": len(people),
        "expected": len(expected),
        "ready": sum(p["status"] == READY for p in expected),
        "warning": sum(p["status"] == WARNING for p in expected),
        "blocked": len(blocked),
        "not_expected": len(people) - len(expected),
        "rehabstod": sum(p["rehabstod"] for p in expected),
        "units": len(unit_list),
        "units_ready": sum(u["status"] == READY for u in unit_list),
        "units_warning": sum(u["status"] == WARNING for u in unit_list),
        "units_blocked": sum(u["status"] == BLOCKED for u in unit_list),
        "open_manual_steps": provider["open_steps"],
        "certificates_checked": certificates is not None,
        "workstations_checked": workstations is not None,
        "status": worst([provider["status"] if provider["problems"] else READY]
                        + [p["status"] for p in expected]),
    }
    if blocked:
        names = ", ".join(f"{p['name']} ({p['hsa_id']})" for p in blocked)
        message = (f"{len(blocked)} of {len(expected)} people expected to use Webcert "
                   f"are blocked: {names}")
    else:
        message = f"nobody expected to use Webcert is blocked ({len(expected)} people)"
    return {
        "generated": generated,
        "today": today.isoformat(),
        "provider": provider,
        "units": unit_list,
        "people": people,
        "summary": summary,
        "exit": {"failed": bool(blocked), "blocked": [p["hsa_id"] for p in blocked],
                 "message": message},
        "sources": {
            "certificates": (certificates or {}).get("generated") if certificates else None,
            "workstations": (workstations or {}).get("generated") if workstations else None,
        },
    }
