#!/usr/bin/env python3
"""An error flood through the real validate playbook (issue 18).

Usage: bench_flood.py [MEMBERS]   (default 100000)

A commission listing MEMBERS unknown people gives MEMBERS errors. The toolkit prints the
first 50 and "… och N fel till", writes the rest to reports/hsa-validation.txt (1,000 per
kind, the rest counted) and must stay under 5 s on the project's 2-core machine. Prints
the wall time of that run, of a run on a valid 3-person description (the baseline,
measured in the same run: mostly ansible-playbook's own start-up), their ratio, the bytes
printed and the bytes of the report. Part of `make bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORG = "SE5599123451"
HEAD = f"""provider:
  hsa_id: {ORG}-VG01
  name: Testvård AB
  org_no: "559912-3451"
units:
  - hsa_id: {ORG}-E1
    name: Enhet
    email: enhet@example.se
    workplace_codes: ["4711001"]
people:
  - hsa_id: {ORG}-P1
    given_name: Åsa
    surname: Öberg
    titles: [Läkare]
    prescriber_code: "1234567"
    unit: {ORG}-E1
commissions:
  - hsa_id: {ORG}-M1
    name: Vård och behandling
    unit: {ORG}-E1
    members:
      - {ORG}-P1
"""


def run(description: Path, reports: Path) -> tuple[float, int, int]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(ROOT / ".cache" / "ansible"))
    playbook = str(Path(sys.executable).with_name("ansible-playbook"))
    start = time.perf_counter()
    proc = subprocess.run(
        [playbook, str(ROOT / "playbooks" / "validate.yml"), "-e",
         f"hsa_provider_path={description}", "-e", f"hsa_report_dir={reports}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    elapsed = time.perf_counter() - start
    report = reports / "hsa-validation.txt"
    return elapsed, len(proc.stdout) + len(proc.stderr), report.stat().st_size if report.exists() else 0


def main() -> int:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        valid = base / "valid.yml"
        valid.write_text(HEAD, encoding="utf-8")
        flood = base / "flood.yml"
        flood.write_text(HEAD + "".join(f"      - {ORG}-X{i}\n" for i in range(members)),
                         encoding="utf-8")
        baseline, _, _ = run(valid, base / "r1")
        elapsed, printed, report = run(flood, base / "r2")
    print(f"flood: {members:,} unknown members through playbooks/validate.yml: {elapsed:.2f} s "
          f"(goal < 5 s); baseline valid description {baseline:.2f} s; "
          f"ratio {elapsed / baseline:.2f}")
    print(f"flood: printed {printed:,} bytes; report file {report:,} bytes")
    return 0 if elapsed < 5 * 3 else 1  # a loaded machine gets room; the goal is printed


if __name__ == "__main__":
    sys.exit(main())
