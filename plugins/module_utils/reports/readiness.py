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
    POSITION_GROUP_PAIRS,
    is_active,
    is_care_commission,
    resolve_role,
)
from ..i18n.core import N_, _, ngettext

READY = "ready"
WARNING = "warning"
BLOCKED = "blocked"
NOT_EXPECTED = "not_expected"  # shown instead of the status of people with uses_webcert: false
STATUS_ORDER = {BLOCKED: 0, WARNING: 1, READY: 2}
STATUS_LABELS = {READY: N_("Ready"), WARNING: N_("Needs attention"), BLOCKED: N_("Blocked"),
                 NOT_EXPECTED: N_("Not expected to use Webcert")}
# How Webcert names each role (Swedish: Webcert's own words).
ROLE_LABELS = {
    "LAKARE": N_("Doctor"),
    "TANDLAKARE": N_("Dentist"),
    "BARNMORSKA": N_("Midwife"),
    "SJUKSKOTERSKA": N_("Nurse"),
    "VARDADMINISTRATOR": N_("Care administrator"),
}

# The licensed profession (hsaTitle) as HSA writes it, whatever the language.
HSA_TITLES = {"LAKARE": "Läkare", "TANDLAKARE": "Tandläkare", "BARNMORSKA": "Barnmorska",
              "SJUKSKOTERSKA": "Sjuksköterska"}

RUN_HSA = "ansible-playbook playbooks/hsa.yml"
RUN_SITHS = "ansible-playbook playbooks/siths.yml"
RUN_WORKSTATIONS = "ansible-playbook playbooks/workstations.yml"
REGISTRATION_URL = "https://etjanster.inera.se/ForfraganTjanst"
ORDER_URL = "https://bestallningsstod.tjansteplattform.se/"


# --------------------------------------------------------------------------- helpers


def problem(message: str, fix: str, it: str = "") -> dict:
    """A finding: what is wrong and what to do, in the reader's words; ``it``: for IT."""
    return {"message": message, "fix": fix, "it": it}


def role_label(role: str | None) -> str | None:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def where(obj) -> str:
    """``units/norr.yml:4`` for an object from the YAML; the DN for one from the directory."""
    origin = getattr(obj, "origin", None)
    if origin is None:
        return _("the provider description")
    return f"{origin.file}:{origin.line}" if origin.line else origin.file


def unique(findings: list[dict]) -> list[dict]:
    """Each finding once (the same words for both certificates of a card say it once)."""
    seen, out = set(), []
    for f in findings:
        key = (f["message"], f["fix"], f.get("it", ""))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


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


def _index(model, attr: str) -> dict:
    if model is None:
        return {}
    return {o.hsa_id: o for o in getattr(model, attr)}


def _drifted(obj) -> str:
    return _("The description has it (%(where)s) but the directory does not match: run "
             "%(command)s.", where=where(obj), command=RUN_HSA)


# --------------------------------------------------------------------------- provider


def provider_readiness(desired, actual) -> dict:
    dprov = desired.provider if desired is not None else None
    aprov = actual.provider if actual is not None else None
    name = (aprov.name if aprov else None) or (dprov.name if dprov else "") or ""
    hsa_id = (aprov.hsa_id if aprov else None) or (dprov.hsa_id if dprov else "") or ""
    problems: list[dict] = []
    warnings: list[dict] = []
    if aprov is None:
        message = _("The care provider %(name)s is not in HSA.", name=name or hsa_id)
        if dprov is not None:
            problems.append(problem(message, _(
                "Ask IT to write the care provider to HSA from the provider description."),
                _drifted(dprov)))
        else:
            problems.append(problem(message, _(
                "Register the care provider in HSA (in HSA Admin, or through your HSA agent).")))
    elif not aprov.org_no:
        message = _("The care provider %(name)s has no organisation number in HSA; Webcert "
                    "requires it.", name=name)
        if dprov is not None and dprov.org_no:
            problems.append(problem(message, _(
                "Ask IT to write the organisation number to HSA again; the description "
                "already has it."), _(
                "HSA attribute orgNo: the description has %(value)s (%(where)s) but the "
                "directory does not match: run %(command)s.",
                value=dprov.org_no, where=where(dprov), command=RUN_HSA)))
        elif dprov is not None:
            problems.append(problem(message, _(
                "Add the organisation number to the provider description and have it "
                "written to HSA."), _(
                "Set org_no of the provider in %(where)s and run %(command)s (HSA attribute "
                "orgNo).", where=where(dprov), command=RUN_HSA)))
        else:
            problems.append(problem(message, _(
                "Ask your HSA agent to add the organisation number in HSA Admin."),
                _("HSA attribute orgNo.")))

    onboarding = dprov.onboarding if dprov is not None else None
    steps = onboarding_steps(onboarding, dprov)
    open_steps = [s for s in steps if not s["done"]]
    for s in open_steps:
        warnings.append(problem(_("Manual step still open: %(step)s", step=s["title"]),
                                s["fix"], s["it"]))
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
        where(dprov) if dprov is not None else _("the provider description"))
    reg = getattr(onboarding, "registration_sent", None)
    agr = getattr(onboarding, "agreement_signed", None)
    order = getattr(onboarding, "technical_order", None)
    return [
        {
            "step": "registration",
            "title": _("Registration (anmälan) for Webcert Fristående sent to Inera"),
            "done": reg is not None,
            "value": _iso(reg),
            "fix": _("Send the registration to Inera at %(url)s.", url=REGISTRATION_URL),
            "it": _("Then set onboarding.registration_sent (the date) in %(where)s.", where=at),
        },
        {
            "step": "agreement",
            "title": _("Agreement (avtal) with Inera signed"),
            "done": agr is not None,
            "value": _iso(agr),
            "fix": _("Sign the agreement that Inera sends after the registration."),
            "it": _("Then set onboarding.agreement_signed (the date) in %(where)s.", where=at),
        },
        {
            "step": "technical_order",
            "title": _("Technical order placed in Inera's beställningsstöd"),
            "done": bool(order),
            "value": order,
            "fix": _("Log in with a SITHS card at %(url)s and follow \"Beställningsstödet — "
                     "Intygstjänster Webcert Fristående\".", url=ORDER_URL),
            "it": _("Then set onboarding.technical_order (the order reference) in %(where)s.",
                    where=at),
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


def _missing_unit_attr(what: str, field: str, attr: str, unit_name: str, dunit,
                       desired_value) -> dict:
    """A unit without ``what`` ("email" or "workplace_code") in the directory."""
    if what == "email":
        message = _("The care unit %(unit)s has no e-mail address in HSA; Webcert requires it.",
                    unit=unit_name)
        fix = _("Ask your HSA administrator to add an e-mail address for %(unit)s.",
                unit=unit_name)
    else:
        message = _("The care unit %(unit)s has no workplace code (arbetsplatskod) in HSA; "
                    "Webcert requires it.", unit=unit_name)
        fix = _("Ask your HSA administrator to add a workplace code (arbetsplatskod) for "
                "%(unit)s.", unit=unit_name)
    if dunit is not None and desired_value:
        fix = _("Ask IT to write the care unit's details to HSA again; the description "
                "already has them.")
        it = _("HSA attribute %(attr)s: the description has it (%(where)s) but the directory "
               "does not match: run %(command)s.", attr=attr, where=where(dunit),
               command=RUN_HSA)
    elif dunit is not None:
        it = _("HSA attribute %(attr)s: set %(field)s of the unit in %(where)s and run "
               "%(command)s.", attr=attr, field=field, where=where(dunit), command=RUN_HSA)
    else:
        it = _("HSA attribute %(attr)s: the unit is not in the provider description; add it "
               "there with %(field)s and run %(command)s, or change it in HSA Admin.",
               attr=attr, field=field, command=RUN_HSA)
    return problem(message, fix, it)


def unit_readiness(hsa_id: str, dunit, aunit, actual, today: date, ws: dict | None) -> dict:
    name = (aunit.name if aunit else None) or (dunit.name if dunit else "") or hsa_id
    problems: list[dict] = []
    warnings: list[dict] = []
    commissions: list[dict] = []
    if aunit is None:
        message = _("The care unit %(unit)s (%(hsa_id)s) is not in HSA.", unit=name,
                    hsa_id=hsa_id)
        if dunit is not None:
            problems.append(problem(message, _(
                "Ask IT to write the care unit to HSA from the provider description."),
                _drifted(dunit)))
        else:
            problems.append(problem(message, _(
                "Register the care unit in HSA (in HSA Admin, or through your HSA agent).")))
    else:
        if not aunit.email:
            problems.append(_missing_unit_attr(
                "email", "email", "mail", name, dunit, dunit.email if dunit else None))
        if not aunit.workplace_codes:
            problems.append(_missing_unit_attr(
                "workplace_code", "workplace_codes", "unitPrescriptionCode", name, dunit,
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
            at = where(dunit) if dunit is not None else _("the provider description")
            warnings.append(problem(
                _("Nobody can work for the care unit %(unit)s in Webcert: it has no active "
                  "commission (medarbetaruppdrag) with the purpose \"Vård och behandling\".",
                  unit=name),
                _("Ask your HSA administrator to create a commission with the purpose \"Vård "
                  "och behandling\" on %(unit)s and to add the staff to it.", unit=name),
                _("Add a commission with purpose \"Vård och behandling\" and unit %(hsa_id)s "
                  "in %(where)s and run %(command)s.", hsa_id=hsa_id, where=at,
                  command=RUN_HSA)))
    if ws is not None and ws["checked"]:
        if not ws["compliant"] and not ws["not_compliant"]:
            warnings.append(problem(
                _("No computer of the care unit %(unit)s is in the workstation report.",
                  unit=name),
                _("Ask IT to check the unit's computers for Webcert."),
                _("Put the unit's PCs in the inventory group %(group)s and run %(command)s.",
                  group=ws["host_group"], command=RUN_WORKSTATIONS)))
        for h in ws["not_compliant"]:
            detail = "; ".join(h["problems"]) or _("not compliant")
            warnings.append(problem(
                _("The computer %(host)s is not ready for Webcert: %(detail)s", host=h["host"],
                  detail=detail),
                _("Ask IT to set up the computer %(host)s for Webcert.", host=h["host"]),
                _("Run %(command)s.", command=RUN_WORKSTATIONS + " --limit " + str(h["host"]))))
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
            _("The SITHS cards were not checked."),
            _("Ask IT to check the SITHS cards before making this report."),
            _("Run %(command)s first (it writes siths.json).", command=RUN_SITHS))])
    entry = certificates.get(hsa_id)
    if entry is None:
        return ({"status": "unknown", "checked": False}, [], [problem(
            _("This person is not in the SITHS card check."),
            _("Ask IT to check the SITHS cards again."),
            _("Run %(command)s again with the current provider description (siths.json has "
              "no entry for %(hsa_id)s).", command=RUN_SITHS, hsa_id=hsa_id))])

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
    revoked = any((c or {}).get("revoked") for c in (summary["auth"], summary["sign"])) or any(
        "revoked" in str(p) for p in summary["problems"])
    if revoked:
        card_fix = _("The SITHS card is blocked (spärrat): the person needs a new SITHS card "
                     "from your SITHS card issuer.")
    else:
        card_fix = _("Order a new SITHS card (or new certificates on the card) from your SITHS "
                     "card issuer.")
    soon_fix = _("Order a new SITHS card from your SITHS card issuer in good time, before the "
                 "certificates expire.")
    run_again = _("Afterwards run %(command)s (certificate details: siths.json).",
                  command=RUN_SITHS)
    findings = [f for f in entry.get("findings") or [] if isinstance(f, dict)]
    problems, warnings = [], []
    if findings:
        # siths.json names each finding with its own fix and IT detail (siths/chain.py).
        for f in findings:
            error = f.get("severity") == "error"
            fallback = card_fix if error else soon_fix
            it = " ".join(x for x in (f.get("it"), run_again) if x)
            entry_ = problem(_("SITHS card: %(problem)s", problem=f.get("message", "")),
                             f.get("fix") or fallback, it)
            (problems if error else warnings).append(entry_)
    else:
        problems = [problem(_("SITHS card: %(problem)s", problem=p), card_fix, run_again)
                    for p in summary["problems"]]
        warnings = [problem(_("SITHS card: %(warning)s", warning=w), soon_fix, run_again)
                    for w in summary["warnings"]]
    if summary["status"] == "error" and not problems:
        problems.append(problem(_("The SITHS card has no valid pair of certificates (for "
                                  "logging in and for signing)."), card_fix, run_again))
    return summary, problems, warnings


def _group_code_gap(position_codes, group_codes) -> tuple[str, str] | None:
    """(position, required codes) when a 203090/204090 position lacks its group code."""
    positions, groups = set(position_codes or ()), set(group_codes or ())
    for position, pairs in POSITION_GROUP_PAIRS.items():
        if position in positions and not set(pairs) & groups:
            return position, _(" or ").join(sorted(pairs))
    return None


def role_reason(decision, titles, position_codes, group_codes) -> str:
    """Why Webcert gives this role, in the reader's words."""
    if decision.rule == "title":
        return _("licensed profession \"%(title)s\"",
                 title=HSA_TITLES.get(decision.role, decision.role))
    if decision.rule == "position":
        code = next(c for c in ("204010", "203020") if c in set(position_codes or ()))
        return _("position code %(code)s (AT or BT doctor)", code=code)
    if decision.rule == "position+group_code":
        for position, pairs in POSITION_GROUP_PAIRS.items():
            for group in pairs:
                if position in set(position_codes or ()) and group in set(group_codes or ()):
                    return _("position code %(position)s with group prescriber code "
                             "%(group)s", position=position, group=group)
    gap = _group_code_gap(position_codes, group_codes)
    if gap is not None:
        return _("position code %(position)s counts as a doctor only together with the group "
                 "prescriber code %(codes)s, which is missing", position=gap[0], codes=gap[1])
    return _("no licensed profession, position code or group prescriber code that Webcert "
             "treats as a doctor, dentist, midwife or nurse")


def _role_fix(expected: str, name: str, dperson, desired_role) -> tuple[str, str]:
    """(fix, for IT) when Webcert's role differs from the expected one."""
    if dperson is None:
        return (_("Ask IT to describe the person in the provider description."),
                _("Add the person to people in the provider description and run %(command)s.",
                  command=RUN_HSA))
    at = where(dperson)
    if desired_role is not None and desired_role.role == expected:
        return (_("Ask IT to write %(name)s's details to HSA again; the description already "
                  "gives the role %(role)s.", name=name, role=role_label(expected)),
                _drifted(dperson))
    gap = _group_code_gap(dperson.position_codes, dperson.group_prescriber_codes)
    if gap is not None:
        return (_("Ask your HSA administrator to add the group prescriber code %(codes)s for "
                  "%(name)s (position code %(position)s counts as a doctor only with it).",
                  codes=gap[1], name=name, position=gap[0]),
                _("HSA attribute hsaGroupPrescriptionCode: add it to group_prescriber_codes "
                  "in %(where)s and run %(command)s.", where=at, command=RUN_HSA))
    if expected == "LAKARE":
        return (_("Ask your HSA administrator to register %(name)s's licensed profession "
                  "\"Läkare\" (or position code 204010 AT doctor / 203020 BT doctor).",
                  name=name),
                _("HSA attributes hsaTitle / paTitleCode: add \"Läkare\" to titles, or 204010 "
                  "/ 203020 to positions, in %(where)s and run %(command)s.", where=at,
                  command=RUN_HSA))
    if expected in ("TANDLAKARE", "BARNMORSKA", "SJUKSKOTERSKA"):
        return (_("Ask your HSA administrator to register %(name)s's licensed profession "
                  "\"%(title)s\".", name=name, title=role_label(expected)),
                _("HSA attribute hsaTitle: add it to titles in %(where)s and run %(command)s.",
                  where=at, command=RUN_HSA))
    return (_("Check which role %(name)s should have in Webcert.", name=name),
            _("Correct expected_role, or the titles and positions, in %(where)s.", where=at))


def _commission_finding(name: str, hsa_id: str, mine, dperson, desired, actual,
                        today: date) -> dict:
    """No usable care commission: say why and what to do (reader's words first)."""
    message = _("%(name)s has no active commission (medarbetaruppdrag) with the purpose "
                "\"Vård och behandling\" in HSA.", name=name)
    notes = []
    expired = []
    for c in mine:
        if not is_care_commission(c.purpose):
            notes.append(_("The commission %(commission)s has the purpose \"%(purpose)s\".",
                           commission=c.name, purpose=c.purpose))
        elif not is_active(c, today):
            if c.valid_to is not None and today > c.valid_to:
                notes.append(_("The commission %(commission)s ended on %(date)s.",
                               commission=c.name, date=c.valid_to.isoformat()))
                expired.append(c)
            elif c.valid_from is not None:
                notes.append(_("The commission %(commission)s starts on %(date)s.",
                               commission=c.name, date=c.valid_from.isoformat()))
        elif actual.unit(c.unit) is None:
            notes.append(_("The commission %(commission)s is on the care unit %(unit)s, which "
                           "is not in HSA.", commission=c.name, unit=c.unit or "?"))
    if notes:
        message = " ".join([message, *notes])
    at = where(dperson) if dperson is not None else _("the provider description")
    if desired is not None:
        for c in desired.commissions_of(hsa_id):
            if is_care_commission(c.purpose) and is_active(c, today):
                return problem(message, _(
                    "Ask IT to write the commission %(commission)s to HSA again; the "
                    "description already lists %(name)s in it.", commission=c.name, name=name),
                    _("The description lists the person in %(commission)s (%(where)s) but the "
                      "directory does not match: run %(command)s.", commission=c.name,
                      where=where(c), command=RUN_HSA))
    if expired:
        c = expired[0]
        return problem(message, _(
            "Ask your HSA administrator to give the commission %(commission)s a new end date, "
            "or to create a new commission for %(name)s.", commission=c.name, name=name),
            _("HSA attribute hsaEndDate: change valid_to of %(commission)s (or add a new "
              "commission) in the provider description and run %(command)s.",
              commission=c.name, command=RUN_HSA))
    return problem(message, _(
        "Ask your HSA administrator to add %(name)s to a commission with the purpose \"Vård "
        "och behandling\" on their care unit.", name=name),
        _("HSA attribute hsaCommissionMember: add %(hsa_id)s to members of a commission with "
          "purpose \"Vård och behandling\" (see %(where)s) and run %(command)s.",
          hsa_id=hsa_id, where=at, command=RUN_HSA))


def person_readiness(hsa_id: str, dperson, aperson, desired, actual, today: date,
                     certificates, provider: dict, units: dict) -> dict:
    name = _person_name(aperson) or _person_name(dperson) or hsa_id
    uses_webcert = dperson.uses_webcert if dperson is not None else True
    expected_role = dperson.expected_role if dperson is not None else None
    problems: list[dict] = []
    warnings: list[dict] = []
    role = None
    reason = _("not in HSA")
    unit_ids: list[str] = []
    if provider["problems"]:
        problems.extend(provider["problems"])

    if aperson is None:
        message = _("%(name)s (%(hsa_id)s) is not in HSA.", name=name, hsa_id=hsa_id)
        if dperson is not None:
            problems.append(problem(message, _(
                "Ask IT to write %(name)s to HSA from the provider description.", name=name),
                _drifted(dperson)))
        else:
            problems.append(problem(message, _(
                "Register the person in HSA (in HSA Admin, or through your HSA agent).")))
    else:
        role = resolve_role(aperson.titles, aperson.position_codes,
                            aperson.group_prescriber_codes)
        reason = role_reason(role, aperson.titles, aperson.position_codes,
                             aperson.group_prescriber_codes)
        mine = actual.commissions_of(hsa_id)
        usable = [c for c in mine if is_care_commission(c.purpose) and is_active(c, today)
                  and actual.unit(c.unit) is not None]
        unit_ids = sorted({c.unit for c in usable})
        if not unit_ids:
            problems.append(_commission_finding(name, hsa_id, mine, dperson, desired, actual,
                                                today))
        else:
            broken = [u for u in unit_ids if units.get(u) and units[u]["problems"]]
            for u in broken:
                for p in units[u]["problems"]:
                    entry = problem(p["message"], p["fix"], p.get("it", ""))
                    (problems if len(broken) == len(unit_ids) else warnings).append(entry)
            for u in unit_ids:
                ws = (units.get(u) or {}).get("workstations")
                if ws and ws["checked"] and not ws["compliant"]:
                    warnings.append(problem(
                        _("No computer at the care unit %(unit)s is ready for Webcert.",
                          unit=units[u]["name"]),
                        _("Ask IT to set up the unit's computers for Webcert."),
                        _("Run %(command)s for the host group %(group)s.",
                          command=RUN_WORKSTATIONS, group=ws["host_group"])))
        if expected_role and role.role != expected_role:
            desired_role = None
            if dperson is not None:
                desired_role = resolve_role(dperson.titles, dperson.position_codes,
                                            dperson.group_prescriber_codes)
            fix, it = _role_fix(expected_role, name, dperson, desired_role)
            problems.append(problem(
                _("%(name)s should be %(expected)s in Webcert, but Webcert will make them "
                  "%(role)s (%(reason)s).", name=name,
                  expected=role_label(expected_role), role=role_label(role.role),
                  reason=reason), fix, it))

    cert, cert_problems, cert_warnings = certificate_status(hsa_id, certificates)
    problems.extend(cert_problems)
    warnings.extend(cert_warnings)
    if dperson is None:
        warnings.append(problem(
            _("%(name)s is in HSA but not in the provider description.", name=name),
            _("Nothing to do if someone else manages this person; otherwise ask IT to add "
              "them to the provider description."),
            _("Add %(hsa_id)s to people in the provider description.", hsa_id=hsa_id)))

    rehab_units = unit_ids if role is not None and role.role == "LAKARE" else []
    problems, warnings = unique(problems), unique(warnings)
    status = _status(problems, warnings)
    shown = status if uses_webcert else NOT_EXPECTED
    return {
        "hsa_id": hsa_id,
        "name": name,
        "uses_webcert": uses_webcert,
        "in_directory": aperson is not None,
        "in_description": dperson is not None,
        "source": where(dperson) if dperson is not None else None,
        "dn": where(aperson) if aperson is not None else None,
        "unit_ids": unit_ids,
        "home_unit": getattr(dperson or aperson, "unit", None),
        "units": [{"hsa_id": u, "name": (units.get(u) or {}).get("name", u)} for u in unit_ids],
        "role": role.role if role else None,
        "role_label": role_label(role.role) if role else None,
        "role_rule": role.rule if role else None,
        "role_reason": reason,
        "expected_role": expected_role,
        "expected_role_label": role_label(expected_role) if expected_role else None,
        "rehabstod": bool(rehab_units),
        "rehabstod_units": list(rehab_units),
        "certificates": cert,
        "status": status,
        "shown_status": shown,
        "status_label": status_label(shown),
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
        message = ngettext(
            "%(num)s of %(expected)s people expected to use Webcert is blocked: %(names)s",
            "%(num)s of %(expected)s people expected to use Webcert are blocked: %(names)s",
            len(blocked), expected=len(expected), names=names)
    else:
        message = ngettext(
            "Nobody expected to use Webcert is blocked (%(num)s person).",
            "Nobody expected to use Webcert is blocked (%(num)s people).", len(expected))
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


def mark_predicted(data: dict) -> dict:
    """Mark a report built from the description alone, without a directory connection (the
    description stood in for what HSA holds): HSA has confirmed none of its verdicts."""
    data["source"] = "description"
    data["summary"]["hsa_confirmed"] = False
    for item in (*data["people"], *data["units"]):
        item["hsa_confirmed"] = False
    return data
