"""Rendering of readiness data: escaped, self-contained HTML; JSON; a short terminal summary."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (
    build_readiness,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness_render import (
    render_html,
    render_text,
    to_json,
)
from readiness_factory import (
    TODAY,
    as_directory,
    certs,
    commission,
    model,
    person,
    provider,
    unit,
)

EVIL = '<script>alert("x")</script>'
DOC = "SE5565594230-P001"
NURSE = "SE5565594230-P002"


@pytest.fixture(autouse=True)
def english():
    with use_language("en"):
        yield


def report(evil_name=EVIL, done=True):
    desired = model(
        provider(done=done),
        (replace(unit(), name=f"Enhet {evil_name}"),),
        (person(DOC, f"Anna {evil_name}", expected_role="LAKARE"),
         person(NURSE, "Sara Sjuksköterska", titles=("Sjuksköterska",))),
        (commission("SE5565594230-C001", (NURSE,)),),
    )
    return build_readiness(desired, as_directory(desired), TODAY,
                           certs((DOC, "ok", [], []), (NURSE, "warning", [], ["expires soon"])),
                           generated="2026-11-26T10:00:00+01:00")


def test_every_value_is_escaped():
    html = render_html(report())
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # exactly one script element: ours
    assert len(re.findall(r"<script\b", html)) == 1


def test_attribute_values_cannot_break_out():
    html = render_html(report(evil_name='" onmouseover="alert(1)'))
    assert 'onmouseover="alert(1)"' not in html


def test_page_is_self_contained():
    html = render_html(report())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html
    assert 'name="viewport"' in html


def test_tables_have_rows_for_people_and_units_with_status_words():
    html = render_html(report())
    assert 'id="people-table"' in html and 'id="units-table"' in html
    assert html.count('<tr data-status="blocked" ') == 1  # Anna: no commission
    assert html.count('<tr data-status="warning" ') == 1  # Sara: certificate expires soon
    assert html.count('<tr data-status="ready" ') == 1  # the unit
    assert "✖ Blocked" in html and "▲ Needs attention" in html  # not colour only
    assert "data-report-ready" in html and 'data-label="Status"' in html


def test_open_manual_steps_appear_in_the_html():
    html = render_html(report(done=False))
    assert html.count("○ open") == 3
    assert "bestallningsstod.tjansteplattform.se" in html


def test_json_round_trips_and_keeps_swedish_letters():
    data = report()
    text = to_json(data)
    assert json.loads(text) == data
    assert "Sjuksköterska" in text


def test_terminal_summary_names_blocked_people_with_fix_and_html_path():
    text = render_text(report(), "/tmp/r/readiness.html")
    assert "Webcert: 2 — 0 ready, 1 need attention, 1 blocked" in text
    assert f"Anna {EVIL} ({DOC})" in text and "What to do:" in text and "For IT:" in text
    assert text.rstrip().endswith("HTML report: /tmp/r/readiness.html")
    assert len(text.splitlines()) < 20


def test_terminal_summary_mentions_unchecked_certificates():
    desired = model(provider(), (unit(),), (person(DOC),), (commission("SE5565594230-C001",
                                                                       (DOC,)),))
    data = build_readiness(desired, as_directory(desired), TODAY, None)
    assert "SITHS cards: not checked" in render_text(data)


def test_swedish_page_for_a_clinic_manager():
    desired = model(
        provider(done=True), (unit(),),
        (person(DOC, "Anna Läkare"),
         person(NURSE, "Bo Kansli", titles=(), uses_webcert=False)),
        (commission("SE5565594230-C001", (DOC,)),),
    )
    with use_language("sv"):
        data = build_readiness(desired, as_directory(desired), TODAY,
                               certs((DOC, "ok", [], []), (NURSE, "ok", [], [])))
        html = render_html(data)
        text = render_text(data)
    assert '<html lang="sv">' in html and "Webcert-status" in html
    assert "beredskapsrapport" not in html
    assert '<tr data-status="not_expected" ' in html and "Förväntas inte använda Webcert" in html
    assert '<tr data-status="blocked" ' not in html  # Bo is not shown as red Blocked
    assert "Vårdenheter" in html and "Personal" in html
    assert "Webcert-status för" in text and "förväntas inte använda Webcert" in text


def test_rows_carry_their_units_for_the_unit_filter():
    html = render_html(report())
    assert re.search(r'<tr data-status="warning" data-units="SE5565594230-1001"', html)
    assert 'data-filter-unit="people-table"' in html
