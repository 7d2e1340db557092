#!/usr/bin/env python3
"""Import of what is in HSA (hsa_import) against a baseline measured in the same run.

Usage: bench_import.py [--people N] [--units N] [--commissions N]

A generated provider (default 10,000 people, 100 units, 200 commissions, the same
generator as bench_hsa.py) is written as an LDIF export; then:

1. the hsa_import module, as its own process, reads that LDIF and writes the description
   (parse with python-ldap's ldif module, one file per unit, validation of the result):
   goal <= 10 s;
2. baseline: ``load_provider`` of the generated description (reading and validating the
   same number of people, what every playbook does first); the ratio is printed;
3. the round trip: the imported description planned against the same entries gives no
   operation (exact), checked here.

Each figure is the median of three runs. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tools" / "bench"))

import collection_path  # noqa: E402

collection_path.ensure()

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (  # noqa: E402
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.baseline import (  # noqa: E402
    baseline_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.importer import (  # noqa: E402
    entries_from_ldif,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (  # noqa: E402
    desired_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (  # noqa: E402
    make_plan,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (  # noqa: E402
    render_entries_ldif,
)
from bench_hsa import write_provider  # noqa: E402

RUNS = 3
BASE = "c=SE"
RUNNER = f"""
import sys, runpy
sys.path.insert(0, {str(ROOT / ".cache" / "collections")!r})
sys.argv = ["hsa_import", sys.argv[1]]
runpy.run_path({str(ROOT / "plugins" / "modules" / "hsa_import.py")!r}, run_name="__main__")
"""


def run_module(ldif: Path, dest: Path, tmp: Path) -> tuple[float, dict]:
    args = tmp / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "ldif": str(ldif), "dest": str(dest)}}), encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(args)], capture_output=True,
                          text=True, check=False)
    elapsed = time.perf_counter() - start
    result = json.loads(proc.stdout or "{}")
    if proc.returncode != 0 or result.get("failed"):
        raise SystemExit(f"hsa_import failed: {result.get('msg') or proc.stderr[-2000:]}")
    return elapsed, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--commissions", type=int, default=200)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as t:
        tmp = Path(t)
        source = tmp / "source"
        write_provider(source, a.people, a.units, a.commissions)
        model = load_provider(source).model
        if model is None:
            raise SystemExit("generated provider is invalid")
        entries = baseline_entries(model, BASE)
        ldif = tmp / "export.ldif"
        ldif.write_text(render_entries_ldif(entries), encoding="utf-8")
        print(f"import: {len(model.people)} people, {len(model.units)} units, "
              f"{len(model.commissions)} commissions; LDIF {ldif.stat().st_size // 1024} kB")

        loads, imports = [], []
        for k in range(RUNS):
            start = time.perf_counter()
            load_provider(source)
            loads.append(time.perf_counter() - start)
            dest = tmp / f"imported-{k}"
            elapsed, result = run_module(ldif, dest, tmp)
            imports.append(elapsed)
            assert result["summary"]["people"] == len(model.people), result["summary"]
            if k:
                shutil.rmtree(dest)
        t_load, t_import = statistics.median(loads), statistics.median(imports)
        print(f"import: baseline load_provider (read + validate) {t_load:.2f} s "
              f"(median of {RUNS})")
        print(f"import: hsa_import module from LDIF {t_import:.2f} s (median of {RUNS}), "
              f"{t_import / t_load:.2f}x the baseline (goal <= 10 s)")

        imported = load_provider(tmp / "imported-0").model
        plan = make_plan(desired_entries(imported, BASE), entries_from_ldif(ldif.read_bytes()),
                         BASE)
        exact = not plan.operations and not plan.errors
        print(f"import: round trip (imported description planned against the export) "
              f"{'no change' if exact else plan.counts}")
        return 0 if t_import <= 10 and exact else 1


if __name__ == "__main__":
    sys.exit(main())
