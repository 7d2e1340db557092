#!/usr/bin/env python3
"""End-to-end benchmark: the `make demo`-style job on a large care provider.

Usage: bench_e2e.py [--people N] [--baseline M] [--keep]

Generates a provider description with N people (default 10,000; 50 per care unit, one
commission per unit) in a temporary folder, starts a private sandbox directory
(tools/hsa_sandbox.py start --dir <tmp>), and runs the real playbooks on it, each as its
own process:

    validate.yml -> hsa.yml (apply) -> [issue + publish test certificates] -> siths.yml
    -> readiness.yml -> drift.yml

For every step it prints one line: wall time and peak memory (the largest resident set of
the step's process tree, from the rusage the kernel reports when the process is reaped:
os.wait4, the per-child form of resource.getrusage(RUSAGE_CHILDREN).ru_maxrss). With
``--baseline M`` (default 1,000; 0 = off) the same job first runs on M people, and each step
of the big run is also printed as a ratio to the baseline, per person: 1.0x means it scales
linearly, more means it grows faster than the number of people.

Exit status 1 when a step fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ORG = "SE5599123451"
PER_UNIT = 50
TODAY = "2026-11-26"


@dataclass
class Step:
    name: str
    seconds: float
    peak_mb: float
    rc: int


class StepFailed(Exception):
    pass


# --------------------------------------------------------------------------- description


def write_description(folder: Path, people: int) -> list[str]:
    """A provider folder with ``people`` people; returns their HSA-ids."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "provider.yml").write_text(
        f'provider:\n  hsa_id: {ORG}-VG01\n  name: Benchvården AB\n  org_no: "559912-3451"\n',
        encoding="utf-8")
    ids = []
    units = (people + PER_UNIT - 1) // PER_UNIT
    for u in range(units):
        unit_id = f"{ORG}-E{u:05d}"
        members = [f"{ORG}-P{n:06d}" for n in range(u * PER_UNIT,
                                                     min(people, (u + 1) * PER_UNIT))]
        ids += members
        lines = ["units:", f"  - hsa_id: {unit_id}", f"    name: Vårdenhet {u}",
                 f"    email: enhet{u}@example.se", f'    workplace_codes: ["{4700000 + u}"]',
                 "commissions:", f"  - hsa_id: {ORG}-M{u:05d}",
                 f"    name: Vård och behandling {u}", f"    unit: {unit_id}",
                 '    rights: ["Läsa;alla;SJF"]', "    members:",
                 *(f"      - {m}" for m in members), "people:"]
        for m in members:
            n = int(m.rsplit("P", 1)[1])
            doctor = n % 3 == 0
            lines += [f"  - hsa_id: {m}", "    given_name: Åsa", f"    surname: Öberg {n}",
                      f"    titles: [{'Läkare' if doctor else 'Sjuksköterska'}]",
                      f"    unit: {unit_id}", f"    mail: p{n}@example.se"]
            if doctor:
                lines += [f'    prescriber_code: "{1000000 + n}"',
                          "    specialities:",
                          '      - {code: "1020", name: Allmänmedicin, licence_code: LK}']
        (folder / f"unit_{u:05d}.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


# --------------------------------------------------------------------------- measuring


def measure(name: str, cmd: list[str], env: dict, log: Path) -> Step:
    """Run ``cmd`` as one process (tree); wall time and peak RSS from os.wait4."""
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Step(name, seconds, usage.ru_maxrss / 1024, proc.returncode)


def run_job(people: int, tmp: Path, label: str) -> list[Step]:
    """The whole job on ``people`` people in ``tmp``; raises StepFailed on a failure."""
    provider = tmp / "provider"
    started = time.perf_counter()
    ids = write_description(provider, people)
    files = sum(1 for _ in provider.iterdir())
    print(f"e2e[{label}]: description {people} people, {files} files, "
          f"{sum(p.stat().st_size for p in provider.iterdir()) / 1048576:.1f} MB "
          f"({time.perf_counter() - started:.1f} s to generate)", flush=True)

    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("ANSIBLE_HOME", None)
    sandbox = tmp / "sandbox"
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "hsa_sandbox.py"), "start",
                          "--dir", str(sandbox)], capture_output=True, text=True, check=False)
    if out.returncode:
        raise StepFailed(f"sandbox did not start: {out.stderr or out.stdout}")
    for line in out.stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line[7:].partition("=")
            env[key] = value.strip().strip("'\"")
    reports = tmp / "reports"
    playbook = [str(BIN / "ansible-playbook")]
    common = ["-e", f"hsa_provider_path={provider}", "-e", f"hsa_report_dir={reports}"]
    pki = tmp / "pki"
    steps = [
        ("validate", [*playbook, "playbooks/validate.yml", *common]),
        ("hsa apply", [*playbook, "playbooks/hsa.yml", *common,
                       "-e", "hsa_show_plan_lines=20"]),
        ("certificates (setup: issue + publish)",
         [sys.executable, str(ROOT / "tools" / "siths_testpki.py"), "--out", str(pki),
          "--now", f"{TODAY}T00:00:00+00:00", "--publish-ldap", "--people", *ids]),
        ("siths", [*playbook, "playbooks/siths.yml", *common,
                   "-e", f"siths_trust_bundle={pki / 'trust'}",
                   "-e", f"siths_now={TODAY}T00:00:00+00:00"]),
        ("readiness", [*playbook, "playbooks/readiness.yml", *common,
                       "-e", "readiness_warn_only=true", "-e", f"readiness_today={TODAY}"]),
        ("drift", [*playbook, "playbooks/drift.yml", *common,
                   "-e", f"siths_trust_bundle={pki / 'trust'}", "-e", f"drift_today={TODAY}"]),
    ]
    results = []
    try:
        for name, cmd in steps:
            log = tmp / f"{name.split()[0]}.log"
            step = measure(name, cmd, env, log)
            results.append(step)
            print(f"e2e[{label}]: {name:<38} {step.seconds:8.1f} s  peak {step.peak_mb:7.0f} MB"
                  + ("" if step.rc == 0 else f"  FAILED (exit {step.rc}, log {log})"),
                  flush=True)
            if step.rc != 0:
                tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise StepFailed(f"{name} failed:\n{tail}")
    finally:
        subprocess.run([sys.executable, str(ROOT / "tools" / "hsa_sandbox.py"), "stop",
                        "--dir", str(sandbox)], capture_output=True, check=False)
    total = sum(s.seconds for s in results)
    print(f"e2e[{label}]: total {total:.1f} s for {people} people", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000,
                        help="people in the baseline run (0: no baseline)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    print(f"e2e: {os.cpu_count()} CPU(s); the sandbox slapd runs on the same machine",
          flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        base = run_job(args.baseline, tmp / "baseline", f"{args.baseline}") \
            if args.baseline else []
        big = run_job(args.people, tmp / "big", f"{args.people}")
    except StepFailed as exc:
        print(f"e2e: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"e2e: files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    factor = args.people / args.baseline if args.baseline else 0
    for b, s in zip(base, big, strict=True):
        ratio = (s.seconds / b.seconds) / factor if b.seconds else float("nan")
        print(f"e2e: {s.name:<38} {args.people} vs {args.baseline} people: time per person "
              f"{ratio:4.2f}x the baseline's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
