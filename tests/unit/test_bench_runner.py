"""tools/bench/run.py (`make bench`): finds the benches, runs each in its own process."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_run", ROOT / "tools" / "bench" / "run.py")
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def test_discover_sorts_and_runs_the_end_to_end_bench_last(tmp_path):
    for name in ("bench_e2e.py", "bench_validate.py", "bench_hsa.py", "helper.py"):
        write(tmp_path, name, "")
    assert [p.name for p in run.discover(tmp_path)] == \
        ["bench_hsa.py", "bench_validate.py", "bench_e2e.py"]


def test_select_by_short_or_file_name_and_reject_unknown(tmp_path):
    scripts = [write(tmp_path, n, "") for n in ("bench_hsa.py", "bench_siths.py")]
    assert run.select(scripts, []) == scripts
    assert [p.name for p in run.select(scripts, ["siths", "bench_hsa.py"])] == \
        ["bench_siths.py", "bench_hsa.py"]
    with pytest.raises(SystemExit, match="unknown bench nope"):
        run.select(scripts, ["nope"])


def test_run_one_streams_output_and_returns_the_exit_status(tmp_path, capsys):
    ok = write(tmp_path, "bench_ok.py", "print('ok: 1.0 s')\n")
    bad = write(tmp_path, "bench_bad.py", "import sys\nprint('bad: boom')\nsys.exit(3)\n")
    assert run.run_one(ok, sys.executable)[0] == 0
    assert run.run_one(bad, sys.executable)[0] == 3
    out = capsys.readouterr().out
    assert "ok: 1.0 s" in out and "bad: boom" in out
