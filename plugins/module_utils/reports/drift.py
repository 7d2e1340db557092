"""Drift detection report: HSA plan + certificate expiry + readiness as JUnit XML and JSON.

Pure functions, no I/O. ``playbooks/drift.yml`` runs three checks and hands their results
to ``build_drift``; ``render_junit`` turns the report into JUnit XML that AWX, Jenkins or
GitLab show as a test run, and ``summary_json`` into the ``drift.json`` summary.

Inputs (the results of the modules, see docs/architecture.md):

* ``hsa``: ``hsa_reconcile`` in check mode: ``plan.operations`` (each with ``op``, ``kind``,
  ``hsa_id``, ``dn``, ``changes``/``attributes``/``new_dn``), ``unmanaged``, ``failed``/``msg``.
* ``certificates``: ``siths_certificates`` (``siths.json``): ``people`` with ``status``
  ``ok|warning|error``, ``problems``, ``warnings``.
* ``readiness``: ``webcert_readiness`` (``readiness.json``): ``people`` with ``status``
  ``ready|warning|blocked``, ``uses_webcert``, ``problems`` ``[{message, fix}]``.

A check that did not run (``None``) or failed (``failed: true`` without data) becomes one
test case with an *error*: the job cannot claim there is no drift when it could not look.

Verdict: the drift job fails when the directory differs from the description (any planned
operation), when someone expected to use Webcert is blocked or has no valid certificate
pair, when a check could not run, and (``fail_on_expiring``, default on) when a
certificate expires within the warning period.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..i18n.core import N_, _, ngettext

PASSED = "passed"
FAILURE = "failure"
ERROR = "error"
SKIPPED = "skipped"

SUITE_HSA = "hsa-directory"
SUITE_CERTS = "siths-certificates"
SUITE_READINESS = "webcert-readiness"

# Characters XML 1.0 cannot carry at all (even escaped): C0 controls except TAB, LF, CR,
# lone surrogates, U+FFFE/U+FFFF.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_LISTED = 50  # items named in a one-line message


@dataclass(frozen=True)
class Case:
    """One JUnit test case: one object, person or certificate that was checked."""

    classname: str
    name: str
    status: str = PASSED  # passed | failure | error | skipped
    kind: str = ""  # the failure type: drift, blocked, expiring, certificate, not-run, ...
    message: str = ""
    details: str = ""

    def to_dict(self) -> dict:
        return {"classname": self.classname, "name": self.name, "status": self.status,
                "type": self.kind, "message": self.message, "details": self.details}


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.cases)

    @property
    def counts(self) -> dict[str, int]:
        return {"tests": len(self.cases), "failures": self.count(FAILURE),
                "errors": self.count(ERROR), "skipped": self.count(SKIPPED)}


# --------------------------------------------------------------------------- helpers


def xml_text(value) -> str:
    """``value`` as text XML 1.0 can hold: invalid control characters become U+FFFD."""
    return _XML_INVALID.sub("\ufffd", "" if value is None else str(value))


def _values(values) -> str:
    if not values:
        return _("(none)")
    return ", ".join(str(v) for v in values)


def _not_run(suite: str, what: str, result) -> Case:
    msg = (result or {}).get("msg") if isinstance(result, dict) else None
    message = (_("The %(check)s check did not run: %(reason)s", check=what, reason=msg) if msg
               else _("The %(check)s check did not run.", check=what))
    return Case(suite, f"{what} check", ERROR, "not-run", message,
                str(msg or _("No result was passed to the drift report.")))


_KINDS = {"provider": N_("Care provider"), "unit": N_("Care unit"), "person": N_("Person"),
          "commission": N_("Commission")}


def _kind(kind: str) -> str:
    """The object kind in the reader's words (vårdgivare, vårdenhet, person, medarbetaruppdrag)."""
    return _(_KINDS[kind]) if kind in _KINDS else kind


def _usable(result, key: str) -> bool:
    return isinstance(result, dict) and isinstance(result.get(key), (list, dict))


# --------------------------------------------------------------------------- the three checks


def _operation_case(op: dict) -> Case:
    kind = op.get("kind") or "entry"
    hsa_id = op.get("hsa_id") or op.get("dn") or "?"
    dn = op.get("dn", "")
    action = op.get("op")
    if action == "add":
        message = _("%(kind)s %(hsa_id)s is in the description but not in HSA.",
                    kind=_kind(kind), hsa_id=hsa_id)
        details = "\n".join(f"{a}: {_values(v)}" for a, v in (op.get("attributes") or {}).items())
    elif action == "modify":
        changes = op.get("changes") or []
        names = [c.get("attribute", "?") for c in changes]
        message = _("%(kind)s %(hsa_id)s in HSA differs from the description in "
                    "%(attributes)s.", kind=_kind(kind), hsa_id=hsa_id,
                    attributes=_values(names))
        details = "\n".join(
            f"{c.get('attribute')}: {_values(c.get('before'))} -> {_values(c.get('after'))}"
            for c in changes)
    elif action == "modrdn":
        message = _("%(kind)s %(hsa_id)s has moved or been renamed in HSA: %(dn)s should be "
                    "%(new_dn)s.", kind=_kind(kind), hsa_id=hsa_id, dn=dn,
                    new_dn=op.get("new_dn"))
        details = message
    elif action == "delete":
        message = _("%(kind)s %(hsa_id)s is not in the description and would be deleted "
                    "(prune).", kind=_kind(kind), hsa_id=hsa_id)
        details = dn
    else:
        message = _("%(kind)s %(hsa_id)s: planned operation %(op)s.", kind=_kind(kind),
                    hsa_id=hsa_id, op=action)
        details = dn
    if op.get("reason"):
        details = (details + "\n" + _("reason: %(reason)s", reason=op["reason"])).strip()
    return Case(f"hsa.{kind}", f"{kind} {hsa_id}", FAILURE, "drift", message,
                f"dn: {dn}\n{details}".strip())


def hsa_suite(hsa: dict | None) -> Suite:
    """One failed case per planned operation; unmanaged entries are skipped cases."""
    suite = Suite(SUITE_HSA)
    plan = (hsa or {}).get("plan") if isinstance(hsa, dict) else None
    if not isinstance(plan, dict) or not isinstance(plan.get("operations"), list):
        suite.cases.append(_not_run(SUITE_HSA, _("HSA directory"), hsa))
        return suite
    for error in plan.get("errors") or []:
        suite.cases.append(Case(SUITE_HSA, "plan", ERROR, "plan-refused",
                                _("The plan was refused: %(error)s", error=error), str(error)))
    suite.cases.extend(_operation_case(op) for op in plan["operations"])
    for entry in plan.get("unmanaged") or []:
        kind = entry.get("kind") or "entry"
        suite.cases.append(Case(
            f"hsa.{kind}", f"{kind} {entry.get('hsa_id') or entry.get('dn')}", SKIPPED,
            "unmanaged",
            _("In HSA but not in the description; left alone (%(action)s).",
              action=entry.get("action") or "kept"), entry.get("dn", "")))
    if not suite.cases:
        suite.cases.append(Case(SUITE_HSA, _("HSA matches the description")))
    return suite


def _is_expiry(person: dict) -> bool:
    """True when a certificate of the person expires within the warning period.

    siths.json names each finding with a ``code`` (``expiring``); older reports only have
    the warning text (``expires in N days``). Other warnings (a legacy CA, a stale CRL,
    SHA-1, ...) are not "expires soon".
    """
    findings = person.get("findings")
    if isinstance(findings, list) and findings:
        return any(isinstance(f, dict) and f.get("code") == "expiring" for f in findings)
    return any("expires in" in str(w) for w in person.get("warnings") or [])


def _cert_case(person: dict) -> Case:
    hsa_id = person.get("hsa_id") or "?"
    name = person.get("name") or hsa_id
    label = f"{name} ({hsa_id})" if name != hsa_id else hsa_id
    status = person.get("status")
    problems = [str(p) for p in person.get("problems") or []]
    warnings = [str(w) for w in person.get("warnings") or []]
    if status == "error":
        message = _("%(person)s has no valid SITHS card (authentication + signing): "
                    "%(problems)s", person=label,
                    problems="; ".join(problems) or _("see the certificate report"))
        return Case("siths.person", label, FAILURE, "certificate", message,
                    "\n".join(problems + warnings))
    if status == "warning":
        message = f"{label}: " + "; ".join(warnings or [_("certificate warning")])
        if _is_expiry(person):
            return Case("siths.person", label, FAILURE, "expiring", message,
                        "\n".join(warnings))
        # Worth reading, but not "expires soon" and not drift.
        return Case("siths.person", label, PASSED, "certificate-warning", message,
                    "\n".join(warnings))
    return Case("siths.person", label)


def certificate_suite(certificates: dict | None, fail_on_expiring: bool = True) -> Suite:
    """One case per person; no valid pair = failure, expiring = failure (or passed)."""
    suite = Suite(SUITE_CERTS)
    if not _usable(certificates, "people"):
        suite.cases.append(_not_run(SUITE_CERTS, _("SITHS card"), certificates))
        return suite
    for person in certificates["people"]:
        if person.get("uses_webcert") is False:
            continue
        case = _cert_case(person)
        if case.kind == "expiring" and not fail_on_expiring:
            case = Case(case.classname, case.name, PASSED, "expiring", case.message,
                        case.details)
        suite.cases.append(case)
    if not suite.cases:
        suite.cases.append(Case(SUITE_CERTS, _("no people to check")))
    return suite


def readiness_suite(readiness: dict | None) -> Suite:
    """One case per person expected to use Webcert; blocked = failure."""
    suite = Suite(SUITE_READINESS)
    if not _usable(readiness, "people"):
        suite.cases.append(_not_run(SUITE_READINESS, _("Webcert status"), readiness))
        return suite
    for person in readiness["people"]:
        if person.get("uses_webcert") is False:
            continue
        hsa_id = person.get("hsa_id") or "?"
        name = person.get("name") or hsa_id
        label = f"{name} ({hsa_id})" if name != hsa_id else hsa_id
        if person.get("status") == "blocked":
            problems = person.get("problems") or []
            lines = [p.get("message", str(p)) if isinstance(p, dict) else str(p)
                     for p in problems]
            fixes = ["- " + p.get("message", "") + "\n  "
                     + _("What to do: %(fix)s", fix=p.get("fix"))
                     + ("\n  " + _("For IT: %(it)s", it=p["it"]) if p.get("it") else "")
                     if isinstance(p, dict) else f"- {p}" for p in problems]
            suite.cases.append(Case(
                "readiness.person", label, FAILURE, "blocked",
                _("%(person)s cannot use Webcert: %(problems)s", person=label,
                  problems="; ".join(lines) or _("blocked")),
                "\n".join(fixes)))
        else:
            suite.cases.append(Case("readiness.person", label))
    if not suite.cases:
        suite.cases.append(Case(SUITE_READINESS, _("nobody is expected to use Webcert")))
    return suite


# --------------------------------------------------------------------------- the report


def build_drift(hsa: dict | None, certificates: dict | None, readiness: dict | None, *,
                fail_on_expiring: bool = True, generated: str | None = None) -> dict:
    """The drift report as plain data (JSON-ready): suites, summary and verdict."""
    suites = [hsa_suite(hsa), certificate_suite(certificates, fail_on_expiring),
              readiness_suite(readiness)]
    by_kind: dict[str, int] = {}
    for suite in suites:
        for case in suite.cases:
            if case.status in (FAILURE, ERROR):
                by_kind[case.kind] = by_kind.get(case.kind, 0) + 1
    drift = by_kind.get("drift", 0)
    blocked = by_kind.get("blocked", 0) + by_kind.get("certificate", 0)
    expiring = sum(c.kind == "expiring" for c in suites[1].cases)
    not_run = by_kind.get("not-run", 0) + by_kind.get("plan-refused", 0)
    unmanaged = suites[0].count(SKIPPED)
    reasons = []
    if drift:
        reasons.append(ngettext("%(num)s object in HSA differs from the description",
                                "%(num)s objects in HSA differ from the description", drift))
    if by_kind.get("blocked"):
        reasons.append(ngettext("%(num)s person cannot use Webcert",
                                "%(num)s people cannot use Webcert", by_kind["blocked"]))
    if by_kind.get("certificate"):
        reasons.append(ngettext("%(num)s person has no valid SITHS card",
                                "%(num)s people have no valid SITHS card",
                                by_kind["certificate"]))
    if expiring and fail_on_expiring:
        reasons.append(ngettext("%(num)s person has a SITHS card that expires soon",
                                "%(num)s people have SITHS cards that expire soon", expiring))
    if not_run:
        reasons.append(ngettext("%(num)s check could not run", "%(num)s checks could not run",
                                not_run))
    failed = bool(reasons)
    summary = {
        "drift": drift,
        "unmanaged": unmanaged,
        "blocked_people": by_kind.get("blocked", 0),
        "certificate_errors": by_kind.get("certificate", 0),
        "expiring_certificates": expiring,
        "checks_not_run": not_run,
        "blockers": blocked,
        "suites": {s.name: s.counts for s in suites},
    }
    return {
        "generated": generated,
        "failed": failed,
        "message": _("Drift or blockers found: %(reasons)s", reasons="; ".join(reasons))
        if failed else _("No drift: HSA matches the description and nobody is blocked."),
        "summary": summary,
        "suites": [{"name": s.name, **s.counts, "cases": [c.to_dict() for c in s.cases]}
                   for s in suites],
    }


def summary_json(report: dict) -> dict:
    """``drift.json``: the verdict, the counts and every case that is not passed."""
    findings = []
    for suite in report["suites"]:
        for case in suite["cases"]:
            if case["status"] != PASSED or case["type"] in ("expiring", "certificate-warning"):
                findings.append({"suite": suite["name"], **case})
    return {"generated": report.get("generated"), "failed": report["failed"],
            "message": report["message"], "summary": report["summary"],
            "findings": findings}


def summary_lines(report: dict, hsa_summary: str | None, junit_path: str,
                  json_path: str) -> list[str]:
    """What the drift job prints at the end (in the current language)."""
    return [
        report["message"],
        _("HSA directory: %(summary)s", summary=hsa_summary or _("no result")),
        _("Reports: %(junit)s, %(json)s", junit=junit_path, json=json_path),
    ]


def render_junit(report: dict, name: str = "webcert-drift") -> str:
    """JUnit XML (the common Jenkins/GitLab/AWX schema) of a ``build_drift`` report."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.Element("testsuites", {"name": name})
    for suite in report["suites"]:
        attrs = {"name": suite["name"], "tests": str(suite["tests"]),
                 "failures": str(suite["failures"]), "errors": str(suite["errors"]),
                 "skipped": str(suite["skipped"])}
        if report.get("generated"):
            attrs["timestamp"] = xml_text(report["generated"])
        node = ET.SubElement(root, "testsuite", attrs)
        for key in totals:
            totals[key] += suite[key]
        for case in suite["cases"]:
            tc = ET.SubElement(node, "testcase", {"classname": xml_text(case["classname"]),
                                                  "name": xml_text(case["name"])})
            if case["status"] in (FAILURE, ERROR, SKIPPED):
                child = ET.SubElement(tc, case["status"], {"message": xml_text(case["message"])})
                if case["status"] != SKIPPED:
                    child.set("type", xml_text(case["type"]))
                    child.text = xml_text(case["details"] or case["message"])
            elif case["message"]:
                ET.SubElement(tc, "system-out").text = xml_text(case["message"])
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
