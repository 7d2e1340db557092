"""Swedish first: the language setting, the catalogs and the template environment."""

from __future__ import annotations

import i18n_build
import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n import core
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    _,
    check_language,
    current_language,
    markdown_cell,
    ngettext,
    use_language,
)
from babel.messages.catalog import Catalog


def test_swedish_is_the_default_and_english_is_the_msgid():
    assert current_language() == "sv"
    assert _("care unit") == "vårdenhet"
    with use_language("en"):
        assert current_language() == "en"
        assert _("care unit") == "care unit"
    assert _("care unit") == "vårdenhet"


def test_language_blocks_nest_and_restore():
    with use_language("en"):
        with use_language("sv"):
            assert _("workplace code") == "arbetsplatskod"
        assert _("workplace code") == "workplace code"


@pytest.mark.parametrize("value", ["de", "svenska", "SV-SE", 3])
def test_an_unknown_language_is_refused_by_name(value):
    with pytest.raises(ValueError, match="webcert_language"):
        check_language(value)


def test_language_value_is_normalised():
    assert check_language(" EN ") == "en"
    assert check_language(None) == "sv"


def test_placeholders_are_filled_after_translation():
    with use_language("en"):
        assert _("%(x)s and %(y)s", x=1, y=2) == "1 and 2"
        assert ngettext("%(num)s person", "%(num)s people", 1) == "1 person"
        assert ngettext("%(num)s person", "%(num)s people", 3) == "3 people"


def test_templates_escape_html_and_markdown_but_not_text(monkeypatch):
    monkeypatch.setattr(core, "_environment", None)
    monkeypatch.setattr("ansible_collections.webcert_siths.onboarding.plugins.module_utils."
                        "i18n.bundle.TEMPLATES",
                        {"t.html.j2": "<p>{{ name }} {{ _('care unit') }}</p>",
                         "t.md.j2": "| {{ name | md_cell }} |",
                         "t.txt.j2": "{{ name }}"})
    try:
        name = "<script>x</script> | *b*"
        html = core.render_template("t.html.j2", name=name)
        assert html == "<p>&lt;script&gt;x&lt;/script&gt; | *b* vårdenhet</p>"
        md = core.render_template("t.md.j2", name=name)
        assert "<script>" not in md and "\\|" in md and "\\*b\\*" in md
        assert core.render_template("t.txt.j2", name=name) == name
    finally:
        core._environment = None


def test_markdown_cell_is_one_line():
    assert markdown_cell("a\nb  c") == "a b c"
    assert markdown_cell(None) == ""


# --------------------------------------------------------------------------- the catalogs


def test_catalogs_are_complete_without_fuzzy_or_unused_entries_and_generated_files_current():
    """Fails when a message or template string has no Swedish translation, when an entry is
    fuzzy or no longer used, or when bundle.py / docs/glossary.md are stale
    (fix: `make catalogs`, then translate in locale/sv/LC_MESSAGES/webcert.po)."""
    assert i18n_build.check() == []


def _catalog(*entries) -> Catalog:
    cat = Catalog(locale="sv", domain="webcert")
    for msgid, msgstr, flags in entries:
        cat.add(msgid, msgstr, flags=flags)
    return cat


def test_the_catalog_check_finds_missing_fuzzy_and_unused_entries():
    template = _catalog(("used", None, ()), ("new", None, ()), ("fuzzy one", None, ()),
                        ("empty", None, ()))
    sv = _catalog(("used", "använd", ()), ("fuzzy one", "luddig", ("fuzzy",)),
                  ("empty", "", ()), ("gone", "borta", ()))
    found = "\n".join(i18n_build.problems(template, {"sv": sv}))
    assert "missing" in found and "'new'" in found
    assert "fuzzy" in found and "'fuzzy one'" in found
    assert "no translation: 'empty'" in found
    assert "not used any more" in found and "'gone'" in found
    assert "'used'" not in found


def test_every_glossary_term_has_a_swedish_word():
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.glossary import (
        TERMS,
    )

    for english, _attribute, _field in TERMS:
        assert _(english) != english or english in ("HSA-id",), english


def test_a_listing_is_never_cut_silently():
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.terminal import (
        excerpt,
    )

    text = "\n".join(f"line {n}" for n in range(10))
    assert excerpt(text, 20) == text.splitlines()
    assert excerpt(text, 3, "reports/hsa-plan.txt") == [
        "line 0", "line 1", "line 2", "… och 7 rader till, se reports/hsa-plan.txt"]
    with use_language("en"):
        assert excerpt(text, 9)[-1] == "… and 1 more line"
