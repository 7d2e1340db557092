"""The provider model: what the care provider's YAML description says, as typed objects.

``load_provider(path, strict_ids=True)`` reads one YAML file or every ``*.yml`` /
``*.yaml`` file below a folder (sorted, recursively), validates everything and returns
``LoadResult(model, findings)``; ``model`` is None when any finding is an error.
Every object carries an ``Origin`` (file, line) for messages and reports.

Reading YAML lives in ``hsa_yaml``, the rules in ``hsa_validate``; this module holds
the dataclasses that the rest of the toolkit reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Origin:
    file: str  # path relative to the folder given to load_provider, or the file name
    line: int  # 1-based; 0 when the finding concerns the whole file or description


def _show(value) -> str:
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, (list, tuple)):
        text = json.dumps(list(value), ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    file: str
    line: int
    path: str  # field path inside the file, e.g. people[3].prescriber_code ("" = whole file)
    value: object  # the offending value (None when missing or not applicable)
    message: str  # what is wrong
    hint: str  # what would be right

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [where]
        if self.path:
            parts.append(f"{self.path}:")
        if self.value is not None:
            parts.append(_show(self.value))
        parts.append(self.message)
        text = " ".join(parts)
        return f"{text} ({self.hint})" if self.hint else text

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        value = self.value
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        return {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "value": value,
            "message": self.message,
            "hint": self.hint,
            "text": str(self),
        }


@dataclass(frozen=True)
class Onboarding:
    registration_sent: date | None  # anmälan till Inera inskickad
    agreement_signed: date | None  # avtal med Inera tecknat
    technical_order: str | None  # beställning i Ineras beställningsstöd (reference)
    origin: Origin


@dataclass(frozen=True)
class Provider:
    hsa_id: str
    name: str
    org_no: str
    onboarding: Onboarding
    origin: Origin


@dataclass(frozen=True)
class Unit:
    hsa_id: str
    name: str
    email: str | None
    workplace_codes: tuple[str, ...]
    parent: str | None  # hsa_id of the parent unit for a sub-unit
    host_group: str | None  # inventory group of this unit's workstations
    origin: Origin


@dataclass(frozen=True)
class Speciality:
    code: str
    name: str
    licence_code: str | None


@dataclass(frozen=True)
class Position:
    code: str | None  # befattningskod
    name: str | None  # befattning


@dataclass(frozen=True)
class SithsIdentity:
    card_number: str | None
    serial_number: str | None  # expected subject serialNumber; None means the person's hsa_id


@dataclass(frozen=True)
class Person:
    hsa_id: str
    given_name: str
    surname: str
    full_name: str
    titles: tuple[str, ...]
    prescriber_code: str | None
    group_prescriber_codes: tuple[str, ...]
    specialities: tuple[Speciality, ...]
    positions: tuple[Position, ...]
    unit: str | None  # unit hsa_id the person's entry lives under (else the provider)
    mail: str | None
    uses_webcert: bool
    siths: SithsIdentity | None
    expected_role: str | None  # one of webcert_roles.ROLES
    origin: Origin

    @property
    def position_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.positions if p.code)


@dataclass(frozen=True)
class Commission:
    hsa_id: str
    name: str
    unit: str
    purpose: str
    rights: tuple[str, ...]
    members: tuple[str, ...]
    valid_from: date | None
    valid_to: date | None
    origin: Origin


@dataclass(frozen=True)
class ProviderModel:
    provider: Provider
    units: tuple[Unit, ...]
    people: tuple[Person, ...]
    commissions: tuple[Commission, ...]
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        by_member: dict[str, list[Commission]] = {}
        for commission in self.commissions:
            for member in commission.members:
                by_member.setdefault(member, []).append(commission)
        self._index.update(
            units={u.hsa_id: u for u in self.units},
            people={p.hsa_id: p for p in self.people},
            commissions={c.hsa_id: c for c in self.commissions},
            by_member={k: tuple(v) for k, v in by_member.items()},
        )

    def unit(self, hsa_id: str) -> Unit | None:
        return self._index["units"].get(hsa_id)

    def person(self, hsa_id: str) -> Person | None:
        return self._index["people"].get(hsa_id)

    def commission(self, hsa_id: str) -> Commission | None:
        return self._index["commissions"].get(hsa_id)

    def commissions_of(self, person_hsa_id: str) -> tuple[Commission, ...]:
        return self._index["by_member"].get(person_hsa_id, ())

    def sub_units(self, unit_hsa_id: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.parent == unit_hsa_id)


@dataclass(frozen=True)
class LoadResult:
    model: ProviderModel | None
    findings: list[Finding]
    # hsa_files.content_digest of the bytes that were parsed (None if a file was unreadable)
    source_digest: bytes | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]


def load_provider(path, strict_ids: bool = True) -> LoadResult:
    """Read, validate and build the provider model from a YAML file or folder."""
    # Imported here: hsa_validate imports this module's dataclasses.
    from .validate import (
        load_and_validate,
    )

    return load_and_validate(str(path), strict_ids=strict_ids)
