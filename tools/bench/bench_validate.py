#!/usr/bin/env python3
"""Time and peak memory of validating a provider description with many people.

Usage: bench_validate.py [PEOPLE]   (default 10000)

Generates a folder of YAML files (one per unit, 50 people each, one commission per
unit) in a temporary folder, runs load_provider on it and prints wall time, the
share spent reading YAML, and peak Python memory (tracemalloc). Part of `make bench`.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

import yaml  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import collection_path  # noqa: E402

collection_path.ensure()

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (  # noqa: E402
    load_provider,
)

ORG = "SE5599123451"
PER_UNIT = 50


def person_yaml(number: int, unit_id: str) -> str:
    doctor = number % 3 == 0
    lines = [
        f"  - hsa_id: {ORG}-P{number:06d}",
        "    given_name: Åsa",
        f"    surname: Öberg{number}",
        f"    titles: [{'Läkare' if doctor else 'Sjuksköterska'}]",
    ]
    if doctor:
        lines += [
            f'    prescriber_code: "{1000000 + number}"',
            "    specialities:",
            '      - {code: "1020", name: Allmänmedicin, licence_code: LK}',
            "    expected_role: läkare",
        ]
    lines += [
        "    positions:",
        "      - {name: Specialist}",
        f"    unit: {unit_id}",
        f"    mail: p{number}@example.se",
    ]
    return "\n".join(lines) + "\n"


def write_description(folder: Path, people: int) -> None:
    (folder / "provider.yml").write_text(
        f'provider:\n  hsa_id: {ORG}-VG01\n  name: Bench AB\n  org_no: "559912-3451"\n',
        encoding="utf-8",
    )
    units = (people + PER_UNIT - 1) // PER_UNIT
    for u in range(units):
        unit_id = f"{ORG}-E{u:05d}"
        members = range(u * PER_UNIT, min(people, (u + 1) * PER_UNIT))
        text = [
            "units:",
            f"  - hsa_id: {unit_id}",
            f"    name: Enhet {u}",
            f"    email: enhet{u}@example.se",
            f'    workplace_codes: ["{4700000 + u}"]',
            "commissions:",
            f"  - hsa_id: {ORG}-M{u:05d}",
            f"    name: Vård och behandling {u}",
            f"    unit: {unit_id}",
            "    members:",
            *(f"      - {ORG}-P{n:06d}" for n in members),
            "people:",
        ]
        body = "\n".join(text) + "\n" + "".join(person_yaml(n, unit_id) for n in members)
        (folder / f"unit_{u:05d}.yml").write_text(body, encoding="utf-8")


def _timed(func, *args) -> float:
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


def _bare_parse(folder: Path) -> None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(folder.glob("*.yml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe loader)


def main() -> int:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_description(folder, people)
        size = sum(p.stat().st_size for p in folder.iterdir())
        tracemalloc.start()
        start = time.perf_counter()
        result = load_provider(folder)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # Timing without tracemalloc overhead (best of 3: the machine may be shared).
        plain = min(_timed(load_provider, folder) for _ in range(3))
        # Baseline in the same run: only parsing the same files with PyYAML's C loader.
        baseline = min(_timed(_bare_parse, folder) for _ in range(3))
    errors = [f for f in result.findings if f.severity == "error"]
    print(f"validate: {people} people, {size / 1048576:.1f} MB of YAML")
    print(f"validate: {plain:.3f} s wall ({elapsed:.3f} s under tracemalloc)")
    print(
        f"validate: baseline yaml.load(CSafeLoader) {baseline:.3f} s; ratio {plain / baseline:.2f}x"
    )
    print(f"validate: peak Python memory {peak / 1048576:.1f} MB")
    print(f"validate: {len(errors)} errors, {len(result.findings) - len(errors)} warnings")
    return 1 if errors or result.model is None else 0


if __name__ == "__main__":
    sys.exit(main())
