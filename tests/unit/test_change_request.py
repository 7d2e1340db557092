"""The change request for the HSA agent (ombud), planned from a baseline description."""

from __future__ import annotations

import csv
import io

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.baseline import (
    Baseline,
    BaselineError,
    baseline_plan,
    read_baseline,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.change_request import (
    build_change_request,
    plan_from_dict,
    render_request_csv,
    render_request_html,
    render_request_markdown,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from hsa_model_helpers import VALID, load_text, variant

NEWCOMER = """\
  - hsa_id: SE5599123451-P126
    given_name: Nils
    surname: Nyman
    titles: [Sjuksköterska]
    unit: SE5599123451-E100
"""


def models(tmp_path, before: str, after: str):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old = load_text(tmp_path / "a", before)
    new = load_text(tmp_path / "b", after)
    assert old.model is not None and new.model is not None, old.errors + new.errors
    return old.model, new.model


def request_for(tmp_path, before: str, after: str, language: str = "sv", **meta):
    old, new = models(tmp_path, before, after)
    plan = baseline_plan(new, Baseline("hsa-confirmed", old, []))
    with use_language(language):
        return plan, build_change_request(plan, new, old, meta)


def items(request, kind):
    return next((s["items"] for s in request["sections"] if s["kind"] == kind), [])


def test_nothing_changed_means_an_empty_request(tmp_path):
    plan, request = request_for(tmp_path, VALID, VALID)
    assert plan.operations == [] and request["total"] == 0 and request["sections"] == []
    with use_language("sv"):
        assert "Inga ändringar" in render_request_markdown(request)


def test_new_person_and_member_with_hsa_admin_field_names(tmp_path):
    after = variant("people:\n", "people:\n" + NEWCOMER).replace(
        "members: [SE5599123451-P101, SE5599123451-P102]",
        "members: [SE5599123451-P101, SE5599123451-P102, SE5599123451-P126]")
    _plan, request = request_for(tmp_path, VALID, after, requester="Anna IT",
                                 contact="it@example.se", date="2026-12-02")
    [new] = items(request, "person")
    assert (new["name"], new["hsa_id"], new["unit"]) == ("Nils Nyman", "SE5599123451-P126",
                                                         "Enhet Norr")
    assert new["action_text"] == "Registrera ny person"
    assert [(f["label"], f["value"]) for f in new["fields"]] == [
        ("Förnamn", "Nils"), ("Efternamn", "Nyman"), ("Fullständigt namn", "Nils Nyman"),
        ("Legitimerad yrkesgrupp", "Sjuksköterska")]
    [commission] = items(request, "commission")
    [members] = commission["changes"]
    # only the delta of a multi-valued field, with the person's name and HSA-id
    assert members["label"] == "Medarbetare"
    assert members["text"] == "Lägg till Nils Nyman (SE5599123451-P126) som medarbetare."
    md = render_request_markdown(request)
    assert "Beställare: Anna IT" in md and "Kontakt vid frågor: it@example.se" in md
    assert "Datum: 2026-12-02" in md
    assert "SE5599123451-P101" not in md.split("## Medarbetaruppdrag")[1]


def test_leaver_removed_from_the_description_is_listed_with_what_to_end(tmp_path):
    after = VALID.replace(
        "members: [SE5599123451-P101, SE5599123451-P102]", "members: [SE5599123451-P101]")
    start = after.index("  - hsa_id: SE5599123451-P102")
    after = after[:start] + after[after.index("commissions:"):]
    plan, request = request_for(tmp_path, VALID, after)
    assert [(o.op, o.hsa_id) for o in plan.operations] == [
        ("modify", "SE5599123451-M100"), ("delete", "SE5599123451-P102")]
    [leaver] = request["leavers"]
    assert (leaver["name"], leaver["hsa_id"], leaver["remove"]) == (
        "Karl Lind", "SE5599123451-P102", True)
    assert leaver["end"] == ["Ta bort Karl Lind som medarbetare i medarbetaruppdraget "
                             "Vård och behandling Norr (SE5599123451-M100)."]
    md = render_request_markdown(request)
    assert "## Slutar" in md and "Ta bort personen från vårdgivaren." in md


def test_leaver_kept_in_the_description_with_uses_webcert_false(tmp_path):
    after = VALID.replace(
        "members: [SE5599123451-P101, SE5599123451-P102]", "members: [SE5599123451-P101]"
    ).replace("    expected_role: LAKARE\n", "    uses_webcert: false\n")
    plan, request = request_for(tmp_path, VALID, after)
    assert [o.op for o in plan.operations] == ["modify"]  # nobody is deleted
    [leaver] = request["leavers"]
    assert leaver["hsa_id"] == "SE5599123451-P102" and leaver["remove"] is False


def test_single_valued_change_and_end_date(tmp_path):
    after = variant('prescriber_code: "1234567"', 'prescriber_code: "7654321"')
    after = variant('valid_to: "2036-12-31"', 'valid_to: "2037-06-30"', after)
    _plan, request = request_for(tmp_path, VALID, after)
    [person] = items(request, "person")
    assert [(c["label"], c["text"]) for c in person["changes"]] == [
        ("Förskrivarkod", "Ändra 1234567 till 7654321.")]
    [commission] = items(request, "commission")
    assert [(c["label"], c["text"]) for c in commission["changes"]] == [
        ("Slutdatum", "Ändra 2036-12-31 till 2037-06-30.")]


def test_english_with_webcert_language_en(tmp_path):
    after = variant('prescriber_code: "1234567"', 'prescriber_code: "7654321"')
    _plan, request = request_for(tmp_path, VALID, after, language="en")
    with use_language("en"):
        md = render_request_markdown(request)
    assert "# HSA change request: Testvård AB" in md
    assert "| Prescriber code | Change 1234567 to 7654321. |" in md


def test_csv_opens_in_swedish_excel(tmp_path):
    after = variant("people:\n", "people:\n" + NEWCOMER)
    _plan, request = request_for(tmp_path, VALID, after)
    with use_language("sv"):
        data = render_request_csv(request)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads å, ä, ö
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0][:3] == ["Objekt", "Namn", "HSA-id"]
    assert ["Personer", "Nils Nyman", "SE5599123451-P126", "Enhet Norr", "Registrera ny person",
            "Förnamn", "", "Nils", "", "", "givenName"] in rows
    assert all(len(r) == len(rows[0]) for r in rows)


def test_html_and_markdown_escape_what_the_description_holds(tmp_path):
    hostile = variant("given_name: Åsa", 'given_name: "<script>alert(1)</script> | *x*"')
    _plan, request = request_for(tmp_path, VALID, hostile)
    with use_language("sv"):
        html = render_request_html(request)
        md = render_request_markdown(request)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<script>" not in md and "\\| \\*x\\*" in md


def test_plan_from_dict_renders_the_same_as_the_plan(tmp_path):
    after = variant("people:\n", "people:\n" + NEWCOMER)
    old, new = models(tmp_path, VALID, after)
    plan = baseline_plan(new, Baseline("x", old, []))
    again = plan_from_dict(plan.to_dict())
    assert again.to_dict() == plan.to_dict()


def test_baseline_none_and_unknown(tmp_path):
    (tmp_path / "p").mkdir()
    assert load_text(tmp_path / "p", VALID).model is not None
    assert read_baseline("none", str(tmp_path / "p")).model is None
    with use_language("en"):
        assert read_baseline("none", str(tmp_path / "p")).note == (
            "empty baseline: everything in the description is new")
        with pytest.raises(BaselineError, match="not in a git repository"):
            read_baseline("no-such-ref", str(tmp_path / "p"))
        with pytest.raises(BaselineError, match="hsa_baseline is empty"):
            read_baseline("", str(tmp_path / "p"))
    # Swedish by default
    assert read_baseline("none", str(tmp_path / "p")).note.startswith("tom baslinje")
    with pytest.raises(BaselineError, match="ligger inte i ett git-repository"):
        read_baseline("no-such-ref", str(tmp_path / "p"))
    with pytest.raises(BaselineError, match="hsa_baseline är tom: ange en git-referens"):
        read_baseline("", str(tmp_path / "p"))


# ------------------------------------------------- readiness predicted without a directory


def test_readiness_predicted_from_the_description_is_marked_unconfirmed(tmp_path):
    import datetime as dt

    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (
        build_readiness,
        mark_predicted,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness_render import (
        render_html,
        render_text,
    )

    (tmp_path / "d").mkdir()
    model = load_text(tmp_path / "d", VALID).model
    with use_language("sv"):
        data = mark_predicted(build_readiness(model, model, dt.date(2026, 12, 2)))
        text, html = render_text(data), render_html(data)
    assert data["source"] == "description" and data["summary"]["hsa_confirmed"] is False
    assert {p["hsa_confirmed"] for p in data["people"]} == {False}
    # the description's own verdicts: Åsa (Läkare, commission) is predicted ready apart
    # from the unchecked card; nobody is "not in HSA" (the description stands in for it)
    assert "finns inte i HSA" not in text
    assert "HSA har inte bekräftat någon av dessa bedömningar" in text.splitlines()[1]
    assert html.count("förutsagt, ej bekräftat i HSA") == len(data["people"])
    plain = build_readiness(model, model, dt.date(2026, 12, 2))
    with use_language("sv"):
        assert "ej bekräftat" not in render_html(plain)


def test_the_filter_renders_a_directory_plan_without_names(tmp_path):
    from ansible_collections.webcert_siths.onboarding.plugins.filter.change_request import (
        hsa_plan_markdown,
    )

    after = variant('prescriber_code: "1234567"', 'prescriber_code: "7654321"')
    old, new = models(tmp_path, VALID, after)
    plan = baseline_plan(new, Baseline("x", old, []))
    md = hsa_plan_markdown(plan.to_dict(), "sv")
    assert md.startswith("# Ändringsbegäran till HSA\n")
    assert "### Ändra personuppgifter: SE5599123451-P101\n" in md
    assert "| Förskrivarkod | Ändra 1234567 till 7654321. |" in md
    assert hsa_plan_markdown({"operations": []}, "en").startswith("# HSA change request\n")
