"""Shared data and helpers for the provider-model tests."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    LoadResult,
    load_provider,
)

# A small valid description in one file. Tests change one thing at a time with
# ``variant(old, new)`` so each rule is checked against an otherwise valid file.
VALID = """\
provider:
  hsa_id: SE5599123451-VG01
  name: Testvård AB
  org_no: "559912-3451"
  onboarding:
    registration_sent: 2026-09-01
    agreement_signed: "2026-09-22"
    technical_order: BS-1
units:
  - hsa_id: SE5599123451-E100
    name: Enhet Norr
    email: norr@example.se
    workplace_codes: ["4711001"]
    host_group: unit_norr
  - hsa_id: SE5599123451-E110
    name: Enhet Norr BVC
    parent: SE5599123451-E100
    email: bvc@example.se
    workplace_codes: ["4711011"]
people:
  - hsa_id: SE5599123451-P101
    given_name: Åsa
    surname: Öberg
    titles: [Läkare]
    prescriber_code: "1234567"
    group_prescriber_codes: []
    specialities:
      - {code: "1020", name: Allmänmedicin, licence_code: LK}
    positions:
      - {code: "201010", name: Överläkare}
    unit: SE5599123451-E100
    mail: asa@example.se
    siths: {card_number: "9752269000000101", serial_number: SE5599123451-P101}
    expected_role: läkare
  - hsa_id: SE5599123451-P102
    given_name: Karl
    surname: Lind
    positions:
      - {code: "204010", name: AT-läkare}
    unit: SE5599123451-E110
    expected_role: LAKARE
commissions:
  - hsa_id: SE5599123451-M100
    name: Vård och behandling Norr
    unit: SE5599123451-E100
    purpose: Vård och behandling
    rights: ["Läsa;alla;SJF"]
    members: [SE5599123451-P101, SE5599123451-P102]
    valid_from: 2026-01-01
    valid_to: "2036-12-31"
"""


def variant(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not found"
    return hits[occurrence - 1]


def load_text(tmp_path: Path, text: str, name: str = "provider.yml", **kwargs) -> LoadResult:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_provider(path, **kwargs)


def load_bytes(tmp_path: Path, data: bytes, name: str = "provider.yml") -> LoadResult:
    path = tmp_path / name
    path.write_bytes(data)
    return load_provider(path)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def only(result: LoadResult, severity: str | None = None):
    """The one finding (of a severity), failing with all findings listed otherwise."""
    found = [f for f in result.findings if severity is None or f.severity == severity]
    assert len(found) == 1, "\n".join(str(f) for f in result.findings)
    return found[0]


def texts(result: LoadResult) -> str:
    return "\n".join(str(f) for f in result.findings)
