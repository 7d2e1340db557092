"""The readiness report in a real browser (Debian ``chromium``, headless).

A clinic manager reads it at 1280 or 1366 px, sometimes 1920, and prints it on A4. For
each width the test loads the page with a measuring script appended, and asserts that the
page does not scroll sideways, that no table cell cuts its content, that the report's own
script ran, and that every person is a visible row. Print: the page is laid out with its
print CSS at the printable width of A4 (186 mm = 703 CSS px) and measured the same way, and
Chromium prints it to a PDF that must have A4 pages. Screenshots and the PDF are kept as
test artifacts in the test's temporary folder and in ``build/test-artifacts/readiness/``
(git-ignored).
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import struct
import subprocess
from datetime import date
from pathlib import Path

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (
    build_readiness,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness_render import (
    render_html,
)
from readiness_factory import (
    NORR,
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

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "readiness"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--virtual-time-budget=3000"]
A4_PRINT_WIDTH = 703  # (210 mm - 2 x 12 mm margins) at 96 px per inch

MEASURE = """<script>(function(){
 var vw=window.innerWidth, de=document.documentElement;
 var r={vw:vw, scroll:Math.max(de.scrollWidth, document.body.scrollWidth), clipped:[], wide:[],
  rows:[], ready:document.body.getAttribute('data-report-ready'), lang:de.lang};
 Array.prototype.forEach.call(document.querySelectorAll('td,th'),function(c){
  if(c.scrollWidth>c.clientWidth+1){r.clipped.push(c.textContent.trim().slice(0,80));}});
 Array.prototype.forEach.call(document.querySelectorAll('body *'),function(el){
  var b=el.getBoundingClientRect();
  if(b.width>0&&b.right>vw+1){r.wide.push(el.tagName+'.'+el.className+' '+Math.round(b.right));}});
 Array.prototype.forEach.call(document.querySelectorAll('#people-table tbody tr'),function(tr){
  var b=tr.getBoundingClientRect();
  if(!tr.hidden&&b.height>0&&b.width>0){r.rows.push(tr.getAttribute('data-hsa-id'));}});
 var out=document.createElement('pre');out.id='measure';out.textContent=JSON.stringify(r);
 document.body.appendChild(out);
})();</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}")
                                       else None)
        if found:
            return found
    pytest.fail("chromium is missing: apt-get install -y chromium (make system-deps)")


def run_chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / "profile"  # a fresh profile for every run
    if profile.exists():
        shutil.rmtree(profile)
    profile.mkdir(parents=True)
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, HOME=str(tmp)))


LONG_UNIT = "Vårdcentralen Söder och Barnmorskemottagningen i Norra Gränbyområdet <b>"
PEOPLE = [
    ("SE5565594230-P001", "Anna Läkare", {"expected_role": "LAKARE"}),
    ("SE5565594230-P002", "Sara <script>alert(1)</script>", {"titles": ("Sjuksköterska",)}),
    ("SE5565594230-P003", "Adam Vikarie", {"titles": (), "positions": ("204090",),
                                           "expected_role": "LAKARE"}),
    ("SE5565594230-P004", "Eva Söder", {"unit_id": SODER}),
    ("SE5565594230-P005", "Olle Utan Uppdrag", {}),
    ("SE5565594230-P006", "Bo Kansli", {"titles": (), "uses_webcert": False}),
    ("SE5565594230-P007", "Maria-Kristina Johansson-Åkerlund Vikström", {}),
    ("SE5565594230-P008", "Långtnamnutanmellanrumsomintekanbrytasnågonstansalls", {}),
]


def demo_report(language: str) -> dict:
    extra = [(f"SE5565594230-P{n:03d}", f"Person Nummer {n}", {}) for n in range(9, 31)]
    everyone = PEOPLE + extra
    desired = model(
        provider(done=False),
        (unit(), unit(SODER, LONG_UNIT, email="vardcentralen.soder.och.barnmorskemottagningen"
                      "@mycket-langt-domannamn.example.se", codes=(), host_group="unit_soder",
                      file="units/soder.yml")),
        tuple(person(i, n, **kw) for i, n, kw in everyone),
        (commission("SE5565594230-C001",
                    tuple(i for i, _, kw in everyone if "unit_id" not in kw
                          and i != "SE5565594230-P005")),
         commission("SE5565594230-C002", ("SE5565594230-P004",), unit_id=SODER,
                    valid_to=date(2026, 1, 1))),
    )
    findings = certs(*[(i, "ok", [], []) for i, _, _ in everyone[:1]],
                     ("SE5565594230-P002", "warning", [],
                      ["signing certificate: expires in 9 days (2026-12-05)"]),
                     ("SE5565594230-P004", "error",
                      ["authentication certificate: expired 2026-10-01"], []),
                     *[(i, "ok", [], []) for i, _, _ in everyone[2:] if i != "SE5565594230-P004"])
    ws = {"hosts": [{"host": "pc-norr-01", "groups": ["unit_norr"], "compliant": True,
                     "problems": []}]}
    with use_language(language):
        data = build_readiness(desired, as_directory(desired), TODAY, findings, ws,
                               "2026-11-26T10:00:00+01:00")
        return {"data": data, "html": render_html(data)}


@pytest.fixture(scope="module", params=["sv", "en"])
def report(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"readiness-html-{request.param}")
    built = demo_report(request.param)
    page = tmp / "readiness.html"
    page.write_text(built["html"], encoding="utf-8")
    return {"lang": request.param, "dir": tmp, "page": page, "data": built["data"]}


def measured_page(report, name: str, print_css: bool = False) -> Path:
    text = report["page"].read_text(encoding="utf-8")
    if print_css:  # lay the page out as the printer does: print rules on, phone rules off
        text = text.replace("@media print{", "@media all{").replace(
            "@media screen and (max-width:760px){", "@media not all{")
        assert "@media all{" in text and "@media not all{" in text
    path = report["dir"] / name
    path.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    return path


def measure(report, tmp: Path, width: int, print_css: bool = False) -> dict:
    page = measured_page(report, f"measure-{width}-{int(print_css)}.html", print_css)
    r = run_chromium(tmp, "--dump-dom", f"--window-size={width},1000", page.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    found = re.search(r'<pre id="measure">(.*?)</pre>', r.stdout, re.S)
    assert found, "the measuring script did not run:\n" + r.stdout[-2000:]
    return json.loads(htmllib.unescape(found.group(1)))


def keep(path: Path, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / f"{lang}-{path.name}")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("width", [1280, 1366, 1920])
def test_fits_the_screen_without_sideways_scrolling_and_shows_everyone(report, tmp_path, width):
    m = measure(report, tmp_path, width)
    assert m["vw"] == width
    assert m["ready"] == "1"  # the report's own script ran to the end
    assert m["lang"] == report["lang"]
    assert m["scroll"] <= width, f"horizontal scrolling: {m['scroll']} > {width}: {m['wide']}"
    assert m["wide"] == []
    assert m["clipped"] == [], "cells that cut their content"
    assert sorted(m["rows"]) == sorted(p["hsa_id"] for p in report["data"]["people"])

    shot = tmp_path / f"readiness-{width}.png"
    r = run_chromium(tmp_path, f"--screenshot={shot}", f"--window-size={width},1000",
                     report["page"].as_uri())
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    assert png_size(shot) == (width, 1000)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank image
    keep(shot, report["lang"])


def test_print_layout_fits_a4_and_shows_everyone(report, tmp_path):
    m = measure(report, tmp_path, A4_PRINT_WIDTH, print_css=True)
    assert m["scroll"] <= A4_PRINT_WIDTH, m["wide"]
    assert m["clipped"] == []
    assert sorted(m["rows"]) == sorted(p["hsa_id"] for p in report["data"]["people"])


def test_print_to_pdf_gives_a4_pages(report, tmp_path):
    pdf = tmp_path / "readiness.pdf"
    r = run_chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                     report["page"].as_uri())
    assert r.returncode == 0 and pdf.is_file(), r.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes, "no page in the PDF"
    for w, h in boxes:  # A4 is 595 x 842 points
        assert abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2, (w, h)
    keep(pdf, report["lang"])


def test_phone_width_turns_tables_into_cards(report, tmp_path):
    m = measure(report, tmp_path, 390)
    # headless Chromium keeps a window at least 500 px wide; still the phone layout (<760)
    assert m["vw"] <= 500
    assert m["scroll"] <= m["vw"], m["wide"]
    assert sorted(m["rows"]) == sorted(p["hsa_id"] for p in report["data"]["people"])


def test_hostile_text_stays_text_and_not_expected_people_are_not_red(report, tmp_path):
    r = run_chromium(tmp_path, "--dump-dom", report["page"].as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    assert "<script>alert(1)</script>" not in dom
    row = re.search(r'<tr data-status="([a-z_]+)"[^>]*data-hsa-id="SE5565594230-P006"', dom)
    assert row and row.group(1) == "not_expected"
    label = "Förväntas inte använda Webcert" if report["lang"] == "sv" else \
        "Not expected to use Webcert"
    assert label in dom
    assert NORR in dom


INTERACT = """<script>(function(){
 function visible(){var out=[];Array.prototype.forEach.call(
  document.querySelectorAll('#people-table tbody tr'),function(tr){
   if(!tr.hidden){out.push(tr.getAttribute('data-hsa-id'));}});return out;}
 function choose(sel,value){var el=document.querySelector(sel);el.value=value;
  el.dispatchEvent(new Event('change'));}
 var r={};
 choose('[data-filter-unit="people-table"]','%(unit)s'); r.unit=visible();
 choose('[data-filter-status="people-table"]','blocked'); r.unit_blocked=visible();
 choose('[data-filter-unit="people-table"]',''); choose('[data-filter-status="people-table"]','');
 r.all=visible();
 var th=document.querySelectorAll('#people-table thead th')[1];
 th.click(); r.sorted=visible(); r.sort=th.getAttribute('aria-sort');
 r.count=document.querySelector('[data-count="people-table"]').textContent;
 var out=document.createElement('pre');out.id='interact';out.textContent=JSON.stringify(r);
 document.body.appendChild(out);
})();</script>"""


def test_filter_by_unit_and_status_and_sort_in_the_browser(report, tmp_path):
    page = report["dir"] / "interact.html"
    script = INTERACT.replace("%(unit)s", SODER)
    page.write_text(report["page"].read_text(encoding="utf-8").replace(
        "</body>", script + "</body>"), encoding="utf-8")
    r = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    found = re.search(r'<pre id="interact">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stdout[-2000:]
    got = json.loads(htmllib.unescape(found.group(1)))
    people = report["data"]["people"]
    at_soder = sorted(p["hsa_id"] for p in people
                      if SODER in p["unit_ids"] or p.get("home_unit") == SODER)
    assert at_soder and sorted(got["unit"]) == at_soder
    blocked = sorted(p["hsa_id"] for p in people if p["hsa_id"] in at_soder
                     and p["shown_status"] == "blocked")
    assert sorted(got["unit_blocked"]) == blocked
    assert len(got["all"]) == len(people)
    by_name = [p["hsa_id"] for p in sorted(people, key=lambda p: p["name"].casefold())]
    assert got["sort"] == "ascending" and got["sorted"][:3] == by_name[:3]
    assert got["count"].startswith(str(len(people)))
