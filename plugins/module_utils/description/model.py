"""The provider model: what the care provider's YAML description says, as typed objects.

``load_provider(path, strict_ids=True)`` reads one YAML file or every ``*.yml`` /
``*.yaml`` file below a folder (sorted, recursively), validates everything and returns
``LoadResult(model, findings)``; ``model`` is None when any finding is an error.
Every object carries an ``Origin`` (file, line) for messages and reports.

Reading YAML lives in ``hsa_yaml``, the rules in ``hsa_validate``; this module holds
the dataclasses that the rest of the toolkit reads.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import date

from .text import (
    EXCERPT_MAX,
    excerpt,
    visible,
)

ERROR = "error"
WARNING = "warning"

# Findings of one kind (severity, field path without list indexes, message without
# digits) kept at most; the rest are only counted. A commission listing 100,000 unknown
# people gives 100,000 findings of one kind: a person needs the first few and the count.
KEEP_PER_KIND = 1000


@dataclass(frozen=True)
class Origin:
    file: str  # path relative to the folder given to load_provider, or the file name
    line: int  # 1-based; 0 when the finding concerns the whole file or description


def _show(value) -> str:
    """A short, visible excerpt of a value, quoted as in JSON."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return excerpt(json.dumps(list(value), ensure_ascii=False, default=str))
    if isinstance(value, str):
        if len(value) > EXCERPT_MAX:
            value = value[:EXCERPT_MAX] + "…"
        return visible(json.dumps(value, ensure_ascii=False))
    return excerpt(value)


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
        # File names and messages may carry text from the description: shown visibly.
        return visible(f"{text} ({self.hint})" if self.hint else text)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        value = self.value
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, (list, tuple)):
            value = [excerpt(v) if isinstance(v, str) else v for v in value[:10]]
        elif isinstance(value, str):
            value = excerpt(value)  # never more than a short, visible excerpt
        return {
            "severity": self.severity,
            "file": visible(self.file),
            "line": self.line,
            "path": visible(self.path),
            "value": value,
            "message": visible(self.message),
            "hint": visible(self.hint),
            "text": str(self),
        }


_NO_DIGITS = str.maketrans("", "", "0123456789")
_DIGITS = re.compile(r"\d+")


@functools.lru_cache(maxsize=4096)
def _message_kind(message: str) -> str:
    return _DIGITS.sub("#", message)


def finding_kind(finding: Finding) -> tuple[str, str, str]:
    """What makes findings "of one kind": severity, field path without list indexes (and
    without any other digit) and message without its numbers."""
    return (finding.severity, finding.path.translate(_NO_DIGITS), _message_kind(finding.message))


class Findings(list):
    """The findings of a description: a list that keeps at most ``KEEP_PER_KIND`` of each
    kind (``finding_kind``) and counts the rest in ``uncollected`` (kind -> count)."""

    def __init__(self, items=(), keep: int = KEEP_PER_KIND):
        super().__init__()
        self.keep = keep
        self.kept: dict[tuple, int] = {}
        self.uncollected: dict[tuple, int] = {}
        self.extend(items)

    def full(self, severity: str, path: str, message: str) -> bool:
        """True when a finding of this kind would only be counted (so a caller can skip
        work such as a did-you-mean search)."""
        kind = (severity, path.translate(_NO_DIGITS), _message_kind(message))
        return self.kept.get(kind, 0) >= self.keep

    def append(self, finding: Finding) -> None:
        kind = finding_kind(finding)
        count = self.kept.get(kind, 0)
        if count >= self.keep:
            self.uncollected[kind] = self.uncollected.get(kind, 0) + 1
            return
        self.kept[kind] = count + 1
        super().append(finding)

    def extend(self, findings) -> None:
        for finding in findings:
            self.append(finding)

    def total(self, severity: str) -> int:
        """Findings of ``severity``, collected or only counted."""
        kept = sum(1 for f in self if f.severity == severity)
        return kept + sum(n for kind, n in self.uncollected.items() if kind[0] == severity)


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

    def count(self, severity: str) -> int:
        """Findings of ``severity``, including those only counted (``Findings``)."""
        if isinstance(self.findings, Findings):
            return self.findings.total(severity)
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def uncollected(self) -> dict:
        return getattr(self.findings, "uncollected", {})

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]


def load_provider(path, strict_ids: bool = True, follow_symlinks: bool = False,
                  symlink_roots=()) -> LoadResult:
    """Read, validate and build the provider model from a YAML file or folder.

    A file or folder in the description that resolves outside it (a symbolic link) is
    refused by name, unless ``follow_symlinks`` and it resolves inside one of
    ``symlink_roots``."""
    # Imported here: hsa_validate imports this module's dataclasses.
    from .validate import (
        load_and_validate,
    )

    return load_and_validate(str(path), strict_ids=strict_ids, follow_symlinks=follow_symlinks,
                             symlink_roots=tuple(symlink_roots or ()))
