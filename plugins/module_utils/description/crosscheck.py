"""Checks that span objects and files in the provider description.

Duplicate HSA-ids (across all files, ignoring case), references from units (parent),
people (unit) and commissions (unit, members), sub-unit loops, commissions per person
(no commission / no "Vård och behandling" commission) and shared host groups.
Pure functions over the converted entries; ``hsa_validate`` calls ``cross_check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..i18n.core import N_, _
from . import rules
from .model import (
    ERROR,
    WARNING,
    Commission,
    Finding,
)
from .webcert_roles import (
    CARE_PURPOSE,
    is_care_commission,
)


@dataclass
class Ref:
    hsa_id: str
    file: str
    line: int
    path: str


@dataclass
class Entry:
    """A converted object plus where it came from (for cross-file checks)."""

    kind: str  # provider | unit | person | commission
    obj: object
    file: str
    path: str
    line: int
    id_line: int
    refs: list[Ref] = field(default_factory=list)  # unit references: parent / unit
    members: list[Ref] = field(default_factory=list)  # person references of a commission


_KIND_NAME = {
    "provider": N_("the provider"),
    "unit": N_("a unit"),
    "person": N_("a person"),
    "commission": N_("a commission"),
}


def _at(file: str, line: int) -> str:
    return file + ":" + str(line)


def _kind_name(kind: str) -> str:
    return _(_KIND_NAME[kind])


def add_finding(findings, severity, file, line, path, value, message, hint=""):
    findings.append(Finding(severity, file, line, path, value, message, hint))


def cross_check(findings, providers, units, people, commissions, top: str, unreadable=False):
    """Checks across objects and files. ``unreadable``: some file could not be read, so a
    missing provider (it may be in that file) is not reported a second time."""
    if not providers and not unreadable:
        add_finding(
            findings,
            ERROR,
            top,
            0,
            "provider",
            None,
            _("is missing: no file has a top-level provider"),
            _("add provider: with hsa_id, name and org_no to exactly one file"),
        )
    for extra in providers[1:]:
        first = providers[0]
        add_finding(
            findings,
            ERROR,
            extra.file,
            extra.line,
            "provider",
            None,
            _("is given a second time (first in %(where)s)", where=_at(first.file, first.line)),
            _("keep the provider in exactly one file"),
        )

    owners: dict[str, Entry] = {}
    for entry in [*providers, *units, *people, *commissions]:
        hsa_id = entry.obj.hsa_id
        if not hsa_id:
            continue
        key = hsa_id.casefold()
        first = owners.get(key)
        if first is None:
            owners[key] = entry
            continue
        add_finding(
            findings,
            ERROR,
            entry.file,
            entry.id_line,
            f"{entry.path}.hsa_id",
            hsa_id,
            _("is used twice: also the HSA-id of %(kind)s at %(where)s (%(path)s)",
              kind=_kind_name(first.kind), where=_at(first.file, first.id_line),
              path=first.path),
            _("every HSA-id must be unique across all files"),
        )

    unit_ids = {e.obj.hsa_id for e in units if e.obj.hsa_id}
    person_ids = {e.obj.hsa_id for e in people if e.obj.hsa_id}
    _check_refs(findings, units, unit_ids, owners, "unit")
    _check_refs(findings, people, unit_ids, owners, "unit")
    _check_refs(findings, commissions, unit_ids, owners, "unit")
    for entry in commissions:
        for ref in entry.members:
            _check_ref(findings, ref, person_ids, owners, "person")
    _check_cycles(findings, units)
    _check_people_commissions(findings, people, commissions)
    _check_host_groups(findings, units)


def _check_refs(findings, entries, targets, owners, kind):
    for entry in entries:
        for ref in entry.refs:
            if entry.kind == "unit" and ref.hsa_id == entry.obj.hsa_id:
                add_finding(
                    findings,
                    ERROR,
                    ref.file,
                    ref.line,
                    ref.path,
                    ref.hsa_id,
                    _("is the unit itself"),
                    _("a unit cannot be its own parent; remove parent"),
                )
                continue
            _check_ref(findings, ref, targets, owners, kind)


def _check_ref(findings, ref: Ref, targets, owners, kind):
    if ref.hsa_id in targets:
        return
    other = owners.get(ref.hsa_id.casefold())
    if other is not None and other.kind != kind:
        message = _("is %(other)s (%(where)s), not %(kind)s", other=_kind_name(other.kind),
                    where=_at(other.file, other.id_line), kind=_kind_name(kind))
        hint = _("give the HSA-id of %(kind)s", kind=_kind_name(kind))
    else:
        if kind == "unit":
            message = _("refers to no unit in the description")
        else:
            message = _("refers to no person in the description")
        full = getattr(findings, "full", None)
        if full is not None and full(ERROR, ref.path, message):
            findings.append(Finding(ERROR, ref.file, ref.line, ref.path, ref.hsa_id, message, ""))
            return  # only counted: no did-you-mean search over every HSA-id
        guess = rules.did_you_mean(ref.hsa_id, targets, cutoff=0.8) if targets else None
        if guess:
            hint = _('did you mean "%(guess)s"?', guess=guess)
        elif kind == "unit":
            hint = _("add the unit or correct the HSA-id")
        else:
            hint = _("add the person or correct the HSA-id")
    add_finding(findings, ERROR, ref.file, ref.line, ref.path, ref.hsa_id, message, hint)


def _check_cycles(findings, units):
    parent_of = {e.obj.hsa_id: e.obj.parent for e in units if e.obj.hsa_id}
    reported: set[str] = set()
    for entry in units:
        start = entry.obj.hsa_id
        if not start or start in reported:
            continue
        chain = [start]
        current = parent_of.get(start)
        while current and current in parent_of and current not in chain:
            chain.append(current)
            current = parent_of.get(current)
        if current == start and len(chain) > 1:
            reported.update(chain)
            ref = entry.refs[0]
            loop = " → ".join([*chain, start])
            add_finding(
                findings,
                ERROR,
                ref.file,
                ref.line,
                ref.path,
                ref.hsa_id,
                _("makes a loop of sub-units: %(loop)s", loop=loop),
                _("a unit cannot be (indirectly) its own parent; remove one parent"),
            )


def _check_people_commissions(findings, people, commissions):
    by_member: dict[str, list[Commission]] = {}
    for entry in commissions:
        for member in entry.obj.members:
            by_member.setdefault(member, []).append(entry.obj)
    for entry in people:
        person = entry.obj
        if not person.hsa_id or not person.uses_webcert:
            continue
        mine = by_member.get(person.hsa_id, [])
        if not mine:
            add_finding(
                findings,
                WARNING,
                entry.file,
                entry.line,
                entry.path,
                person.hsa_id,
                _("has no commission (medarbetaruppdrag): Webcert will not let them in"),
                _('add them to the members of a "%(purpose)s" commission, '
                  "or set uses_webcert: false", purpose=CARE_PURPOSE),
            )
        elif not any(is_care_commission(c.purpose) for c in mine):
            add_finding(
                findings,
                WARNING,
                entry.file,
                entry.line,
                entry.path,
                person.hsa_id,
                _('has commissions, but none with the purpose "%(purpose)s": '
                  "Webcert will show them no unit", purpose=CARE_PURPOSE),
                _('add them to a commission whose purpose is "%(purpose)s"',
                  purpose=CARE_PURPOSE),
            )


def _check_host_groups(findings, units):
    seen: dict[str, Entry] = {}
    for entry in units:
        group = entry.obj.host_group
        if not group:
            continue
        if group in seen:
            first = seen[group]
            add_finding(
                findings,
                WARNING,
                entry.file,
                entry.line,
                f"{entry.path}.host_group",
                group,
                _("is also the host group of %(unit)s (%(where)s)", unit=first.obj.hsa_id,
                  where=_at(first.file, first.line)),
                _("give each unit its own inventory group"),
            )
        else:
            seen[group] = entry
