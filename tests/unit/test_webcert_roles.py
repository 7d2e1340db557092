"""Webcert's role decision (CommonAuthoritiesResolver order), role names, commissions."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.webcert_roles import (
    ROLES,
    is_active,
    is_care_commission,
    parse_role_name,
    resolve_role,
)


@pytest.mark.parametrize(
    ("titles", "positions", "groups", "role", "rule"),
    [
        # 1. legitimerad yrkesgrupp Läkare, then Tandläkare
        (["Läkare"], [], [], "LAKARE", "title"),
        (["Tandläkare"], [], [], "TANDLAKARE", "title"),
        (["Tandläkare", "Läkare"], [], [], "LAKARE", "title"),  # Läkare is checked first
        (["Läkare"], ["204090"], [], "LAKARE", "title"),
        # 2. AT / BT position codes
        ([], ["204010"], [], "LAKARE", "position"),
        ([], ["203020"], [], "LAKARE", "position"),
        (["Sjuksköterska"], ["204010"], [], "LAKARE", "position"),  # before the nurse rule
        # 3. position + group prescription code pairs
        ([], ["203090"], ["9300005"], "LAKARE", "position+group_code"),
        ([], ["203090"], ["9400003"], "LAKARE", "position+group_code"),
        ([], ["204090"], ["9100009"], "LAKARE", "position+group_code"),
        ([], ["204090"], ["9200007"], "LAKARE", "position+group_code"),
        # ... but only the right pairs
        ([], ["203090"], [], "VARDADMINISTRATOR", "default"),
        ([], ["204090"], [], "VARDADMINISTRATOR", "default"),
        ([], ["203090"], ["9100009"], "VARDADMINISTRATOR", "default"),
        ([], ["204090"], ["9300005"], "VARDADMINISTRATOR", "default"),
        ([], [], ["9300005"], "VARDADMINISTRATOR", "default"),
        # 4. midwife before nurse
        (["Barnmorska"], [], [], "BARNMORSKA", "title"),
        (["Sjuksköterska", "Barnmorska"], [], [], "BARNMORSKA", "title"),
        (["Sjuksköterska"], [], [], "SJUKSKOTERSKA", "title"),
        (["Barnmorska"], ["203090"], ["9300005"], "LAKARE", "position+group_code"),
        # 5. everyone else
        ([], [], [], "VARDADMINISTRATOR", "default"),
        (["Tandhygienist"], [], [], "VARDADMINISTRATOR", "default"),
        (["läkare"], [], [], "VARDADMINISTRATOR", "default"),  # Webcert compares exactly
    ],
)
def test_resolve_role_follows_webcert_order(titles, positions, groups, role, rule):
    decision = resolve_role(titles, positions, groups)
    assert (decision.role, decision.rule) == (role, rule)
    assert decision.role in ROLES
    assert decision.reason


def test_reason_names_the_deciding_data():
    assert "204010" in resolve_role([], ["204010"], []).reason
    assert "9300005" in resolve_role([], ["203090"], ["9300005"]).reason
    assert "Läkare" in resolve_role(["Läkare"], [], []).reason


def test_nfd_titles_are_normalised():
    assert resolve_role([unicodedata.normalize("NFD", "Läkare")], [], []).role == "LAKARE"


def test_none_inputs_mean_empty():
    assert resolve_role(None, None, None).role == "VARDADMINISTRATOR"


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("läkare", "LAKARE"),
        ("Läkare", "LAKARE"),
        ("LÄKARE", "LAKARE"),
        ("lakare", "LAKARE"),
        ("LAKARE", "LAKARE"),
        (" läkare ", "LAKARE"),
        ("tandläkare", "TANDLAKARE"),
        ("barnmorska", "BARNMORSKA"),
        ("sjuksköterska", "SJUKSKOTERSKA"),
        ("sjukskoterska", "SJUKSKOTERSKA"),
        ("vårdadministratör", "VARDADMINISTRATOR"),
        ("Vardadministrator", "VARDADMINISTRATOR"),
        (unicodedata.normalize("NFD", "läkare"), "LAKARE"),
        ("kirurg", None),
        ("", None),
        (None, None),
        (42, None),
        ("privatläkare", None),
    ],
)
def test_parse_role_name(text, role):
    assert parse_role_name(text) == role


@pytest.mark.parametrize(
    ("purpose", "care"),
    [
        ("Vård och behandling", True),
        ("vård och behandling", True),
        ("VÅRD OCH BEHANDLING", True),
        (unicodedata.normalize("NFD", "Vård och behandling"), True),
        ("Administration", False),
        ("Vård och  behandling", False),
        ("Vård & behandling", False),
        ("", False),
        (None, False),
    ],
)
def test_is_care_commission(purpose, care):
    assert is_care_commission(purpose) is care


@dataclass
class _Dates:
    valid_from: date | None
    valid_to: date | None


@pytest.mark.parametrize(
    ("start", "end", "today", "active"),
    [
        (None, None, date(2026, 6, 1), True),
        (date(2026, 1, 1), None, date(2026, 1, 1), True),
        (date(2026, 1, 2), None, date(2026, 1, 1), False),
        (None, date(2026, 6, 1), date(2026, 6, 1), True),
        (None, date(2026, 6, 1), date(2026, 6, 2), False),
        (date(2026, 1, 1), date(2026, 12, 31), date(2026, 7, 1), True),
    ],
)
def test_is_active(start, end, today, active):
    assert is_active(_Dates(start, end), today) is active


def test_is_active_works_on_model_commissions(tmp_path):
    from hsa_model_helpers import VALID, load_text

    commission = load_text(tmp_path, VALID).model.commissions[0]
    assert is_active(commission, date(2026, 6, 1))
    assert not is_active(commission, date(2037, 1, 1))
