"""`make bench`: run every benchmark script in tools/bench/, each in its own process.

Scripts are the files ``tools/bench/bench_*.py`` (sorted by name; ``bench_e2e.py`` last,
it is the longest). Each runs with the same Python as this runner, from the project root,
with its output streamed as it comes. Each bench prints its own measurements, one per line
(time, peak memory, ratio against a baseline measured in the same run). The runner prints a
summary at the end and exits non-zero when any bench failed.

    .venv/bin/python tools/bench/run.py                 # everything (what `make bench` does)
    .venv/bin/python tools/bench/run.py --list          # which benches exist
    .venv/bin/python tools/bench/run.py validate siths  # only bench_validate.py, bench_siths.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LAST = "bench_e2e.py"


def discover(folder: Path = HERE) -> list[Path]:
    """bench_*.py in ``folder``, sorted, with the end-to-end bench last."""
    scripts = sorted(folder.glob("bench_*.py"), key=lambda p: (p.name == LAST, p.name))
    return [p for p in scripts if p.is_file()]


def select(scripts: list[Path], names: list[str]) -> list[Path]:
    """Keep the scripts named (``validate`` or ``bench_validate.py``); unknown names fail."""
    if not names:
        return scripts
    by_name = {p.stem.removeprefix("bench_"): p for p in scripts}
    unknown = [n for n in names if n.removeprefix("bench_").removesuffix(".py") not in by_name]
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(unknown)}; known: {', '.join(by_name)}")
    return [by_name[n.removeprefix("bench_").removesuffix(".py")] for n in names]


def run_one(script: Path, python: str = sys.executable) -> tuple[int, float]:
    """Run one bench, streaming its output as it comes; return (rc, seconds).

    Each bench gets a plan cache folder of its own (``HSA_CACHE_DIR``), empty at its start:
    what one bench learned never speeds up another, and ``~/.cache`` is left alone."""
    import tempfile

    cache = tempfile.mkdtemp(prefix="bench-plan-cache-")
    env = dict(os.environ, PYTHONUNBUFFERED="1", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               HSA_CACHE_DIR=cache)
    started = time.monotonic()
    with subprocess.Popen([python, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
        rc = proc.wait()
    import shutil

    shutil.rmtree(cache, ignore_errors=True)
    return rc, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benches to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benches and exit")
    args = parser.parse_args(argv)
    scripts = select(discover(), args.names)
    if args.list:
        for script in scripts:
            print(script.relative_to(ROOT))
        return 0
    if not scripts:
        print("no tools/bench/bench_*.py found", file=sys.stderr)
        return 1
    print(f"make bench: {len(scripts)} bench(es) on {os.cpu_count()} CPU(s), "
          f"Python {sys.version.split()[0]}", flush=True)
    results = []
    for script in scripts:
        print(f"\n== {script.relative_to(ROOT)}", flush=True)
        rc, seconds = run_one(script)
        results.append((script.name, rc, seconds))
    print("\n== summary")
    for name, rc, seconds in results:
        print(f"{'ok  ' if rc == 0 else 'FAIL'} {name:<24} {seconds:8.1f}s"
              + ("" if rc == 0 else f"  (exit status {rc})"))
    failed = [name for name, rc, _ in results if rc != 0]
    if failed:
        print(f"make bench: {len(failed)} failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
