"""The readiness report in a real browser (Debian ``chromium``, headless).

Renders the HTML, checks that the tables are present and that the inline script ran
(it sets ``data-report-ready="1"`` on ``<body>`` and ``data-tables``), and takes
screenshots at desktop and phone width into the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (
    build_readiness,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness_render import (
    render_html,
)
from readiness_factory import (
    SODER,
    TODAY,
    as_directory,
    certs,
    commission,
    model,
    person,
    provider,
    unit,
)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--virtual-time-budget=3000"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}")
                                       else None)
        if found:
            return found
    pytest.fail("chromium is missing: sudo apt-get install -y chromium (make system-deps)")


def run_chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, HOME=str(tmp)))


def demo_report() -> dict:
    desired = model(
        provider(done=False),
        (unit(), unit(SODER, "Vårdcentralen Söder <b>", codes=(), host_group="unit_soder",
                      file="units/soder.yml")),
        (person("SE5565594230-P001", "Anna Läkare", expected_role="LAKARE"),
         person("SE5565594230-P002", "Sara <script>alert(1)</script>",
                titles=("Sjuksköterska",)),
         person("SE5565594230-P003", "Adam Vikarie", titles=(), positions=("204090",),
                expected_role="LAKARE"),
         person("SE5565594230-P004", "Eva Söder", unit_id=SODER),
         person("SE5565594230-P005", "Olle Utan Uppdrag")),
        (commission("SE5565594230-C001", ("SE5565594230-P001", "SE5565594230-P002",
                                          "SE5565594230-P003")),
         commission("SE5565594230-C002", ("SE5565594230-P004",), unit_id=SODER,
                    valid_to=date(2027, 1, 1))),
    )
    findings = certs(("SE5565594230-P001", "ok", [], []),
                     ("SE5565594230-P002", "warning", [], ["signing certificate: expires in 9 "
                                                           "days"]),
                     ("SE5565594230-P003", "ok", [], []),
                     ("SE5565594230-P004", "error", ["authentication certificate: expired"], []),
                     ("SE5565594230-P005", "ok", [], []))
    ws = {"hosts": [{"host": "pc-norr-01", "groups": ["unit_norr"], "compliant": True,
                     "problems": []}]}
    actual = as_directory(desired)
    actual = replace(actual, commissions=actual.commissions)
    return build_readiness(desired, actual, TODAY, findings, ws, "2026-11-26T10:00:00+01:00")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("readiness-html")
    path = tmp / "readiness.html"
    path.write_text(render_html(demo_report()), encoding="utf-8")
    return path


def test_script_runs_and_tables_are_present(report_file, tmp_path):
    r = run_chromium(tmp_path, "--dump-dom", report_file.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-report-ready="1"' in body, body  # the inline script ran to the end
    assert 'data-tables="2"' in body
    assert 'id="people-table"' in dom and 'id="units-table"' in dom
    people_rows = re.search(r'id="people-table".*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert people_rows.count("<tr") == 5
    # the filter counter is filled in by the script
    assert "5 shown" in dom
    # the hostile name stayed text
    assert "<script>alert(1)</script>" not in dom
    assert "Blocked" in dom and "Ready" in dom


@pytest.mark.parametrize(("label", "size"), [("desktop", "1280,1600"), ("phone", "390,1800")])
def test_screenshot(report_file, tmp_path, label, size):
    shot = tmp_path / f"report-{label}.png"
    r = run_chromium(tmp_path, f"--screenshot={shot}", f"--window-size={size}",
                     report_file.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    assert shot.is_file(), r.stderr[-2000:]
    width, height = png_size(shot)
    assert (width, height) == tuple(int(x) for x in size.split(","))
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank image
