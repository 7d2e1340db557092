"""Reading the description: YAML problems, file encodings, folders of files, scale."""

from __future__ import annotations

import unicodedata

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.yaml_reader import (
    MAX_ALIAS_EXPANSION,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import use_language
from hsa_model_helpers import (
    VALID,
    line_of,
    load_bytes,
    load_text,
    only,
    texts,
    variant,
    write_tree,
)


@pytest.fixture(autouse=True)
def _english():
    """These tests check the rules against the English messages (the catalog's msgids);
    the Swedish ones (the default) are checked in test_findings_language.py."""
    with use_language("en"):
        yield

PROVIDER = """\
provider:
  hsa_id: SE5599123451-VG01
  name: Testvård AB
  org_no: "559912-3451"
"""

UNIT_NORR = """\
# Norr: unit, commission, people
units:
  - hsa_id: SE5599123451-E100
    name: Norr
    email: norr@example.se
    workplace_codes: ["4711001"]
    host_group: unit_norr
commissions:
  - hsa_id: SE5599123451-M100
    name: Vård och behandling Norr
    unit: SE5599123451-E100
    members: [SE5599123451-P101]
people:
  - hsa_id: SE5599123451-P101
    given_name: Åsa
    surname: Öberg
    titles: [Läkare]
    prescriber_code: "1234567"
    unit: SE5599123451-E100
"""

UNIT_SODER = """\
units:
  - hsa_id: SE5599123451-E200
    name: Söder
    email: soder@example.se
    workplace_codes: ["4711002"]
    host_group: unit_soder
commissions:
  - hsa_id: SE5599123451-M200
    name: Vård och behandling Söder
    unit: SE5599123451-E200
    members: [SE5599123451-P201, SE5599123451-P101]
people:
  - hsa_id: SE5599123451-P201
    given_name: Erik
    surname: Berg
    titles: [Sjuksköterska]
    unit: SE5599123451-E200
"""


def test_folder_of_files_is_merged_with_origins(tmp_path):
    write_tree(
        tmp_path,
        {
            "provider.yml": PROVIDER,
            "units/norr.yml": UNIT_NORR,
            "units/soder.yaml": UNIT_SODER,
            "notes.txt": "not yaml: [",
        },
    )
    result = load_provider(tmp_path)
    assert result.findings == [], texts(result)
    model = result.model
    assert [u.hsa_id for u in model.units] == ["SE5599123451-E100", "SE5599123451-E200"]
    assert model.unit("SE5599123451-E200").origin.file == "units/soder.yaml"
    assert model.person("SE5599123451-P201").origin.line == line_of(
        UNIT_SODER, "hsa_id: SE5599123451-P201"
    )
    # A commission in one file may name a person from another.
    assert len(model.commissions_of("SE5599123451-P101")) == 2


def test_hidden_files_and_folders_are_skipped(tmp_path):
    write_tree(
        tmp_path,
        {
            "provider.yml": PROVIDER,
            "units/norr.yml": UNIT_NORR,
            ".git/config.yml": "{{ broken",
            "units/.draft.yml": "[broken",
        },
    )
    assert load_provider(tmp_path).findings == []


def test_errors_in_a_folder_name_the_relative_file(tmp_path):
    broken = UNIT_SODER.replace("soder@example.se", "soder@")
    write_tree(
        tmp_path, {"provider.yml": PROVIDER, "units/norr.yml": UNIT_NORR, "units/soder.yml": broken}
    )
    finding = only(load_provider(tmp_path))
    assert str(finding).startswith(
        f'units/soder.yml:{line_of(broken, "soder@")} units[0].email: "soder@" is not an e-mail'
    )


def test_duplicate_hsa_id_across_files(tmp_path):
    clash = UNIT_SODER.replace("hsa_id: SE5599123451-P201", "hsa_id: SE5599123451-P101")
    clash = clash.replace(
        "members: [SE5599123451-P201, SE5599123451-P101]", "members: [SE5599123451-P101]"
    )
    write_tree(tmp_path, {"provider.yml": PROVIDER, "a.yml": UNIT_NORR, "b.yml": clash})
    finding = only(load_provider(tmp_path))
    assert finding.file == "b.yml"
    assert finding.line == line_of(clash, "hsa_id: SE5599123451-P101")
    assert f"a.yml:{line_of(UNIT_NORR, 'hsa_id: SE5599123451-P101')}" in finding.message


def test_provider_in_two_files_is_an_error(tmp_path):
    write_tree(tmp_path, {"a.yml": PROVIDER, "b.yml": PROVIDER, "c.yml": UNIT_NORR})
    result = load_provider(tmp_path)
    second = next(f for f in result.errors if f.path == "provider")
    assert second.file == "b.yml" and "a.yml:2" in second.message


def test_folder_without_provider_is_an_error(tmp_path):
    write_tree(tmp_path, {"units/norr.yml": UNIT_NORR})
    finding = only(load_provider(tmp_path))
    assert finding.path == "provider" and "no file has a top-level provider" in finding.message


def test_folder_without_yaml_files(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    finding = only(load_provider(tmp_path))
    assert "no .yml or .yaml files" in finding.message


def test_missing_path(tmp_path):
    finding = only(load_provider(tmp_path / "nope"))
    assert "does not exist" in finding.message


def test_empty_file_alone_is_an_error(tmp_path):
    result = load_text(tmp_path, "")
    finding = only(result)
    assert (finding.severity, finding.message) == ("error", "is empty")
    assert result.model is None


def test_comment_only_file_counts_as_empty(tmp_path):
    finding = only(load_text(tmp_path, "# nothing yet\n\n"))
    assert (finding.severity, finding.message) == ("error", "is empty")


def test_empty_file_in_a_folder_is_a_warning(tmp_path):
    write_tree(tmp_path, {"provider.yml": PROVIDER, "norr.yml": UNIT_NORR, "team.yml": ""})
    finding = only(load_provider(tmp_path))
    assert (finding.severity, finding.file, finding.message) == ("warning", "team.yml", "is empty")


def test_bom_is_accepted(tmp_path):
    result = load_bytes(tmp_path, b"\xef\xbb\xbf" + VALID.encode())
    assert result.findings == [], texts(result)


def test_crlf_line_endings_keep_line_numbers(tmp_path):
    text = variant("email: norr@example.se", "email: norr@")
    result = load_bytes(tmp_path, text.replace("\n", "\r\n").encode())
    finding = only(result)
    assert finding.line == line_of(text, "norr@")
    assert finding.value == "norr@"  # no stray \r in values


def test_utf16_is_refused_with_advice(tmp_path):
    finding = only(load_bytes(tmp_path, VALID.encode("utf-16")))
    assert "UTF-16" in finding.message and "UTF-8" in finding.hint


def test_tab_indentation_gets_a_clear_message(tmp_path):
    text = variant("    email: norr@example.se", "\temail: norr@example.se")
    result = load_text(tmp_path, text)
    tab = next(f for f in result.errors if "tab character" in f.message)
    assert tab.line == line_of(text, "\temail")
    assert "spaces" in tab.hint
    assert result.model is None


def test_tab_inside_a_value_is_refused_with_a_visible_escape(tmp_path):
    """A tab in a value is a control character (issue 18): refused, shown as \\t."""
    text = variant("name: Enhet Norr BVC", 'name: "Enhet\tNorr"')
    finding = only(load_text(tmp_path, text))
    assert (finding.path, finding.line) == ("units[1].name", line_of(text, "Enhet\tNorr"))
    assert "U+0009 (TAB)" in finding.message
    assert '"Enhet\\tNorr"' in str(finding) and "\t" not in str(finding)


def test_invalid_utf8_gives_byte_offset_and_line(tmp_path):
    data = VALID.replace("Testvård", "Testv\udce5rd").encode("utf-8", "surrogateescape")
    finding = only(load_bytes(tmp_path, data))
    offset = data.index(b"\xe5rd")
    assert f"byte {offset} (0xe5)" in finding.message
    assert finding.line == line_of(VALID, "Testvård")
    assert "UTF-8" in finding.hint


def test_nul_byte_is_an_error_with_line_and_column(tmp_path):
    text = variant("name: Enhet Norr BVC", "name: Enhet\x00Norr")
    finding = only(load_text(tmp_path, text))
    assert finding.line == line_of(text, "Enhet\x00")
    assert "U+0000 (NUL)" in finding.message and "column 16" in finding.message


def test_yaml_syntax_error_has_position(tmp_path):
    text = variant("name: Enhet Norr BVC", 'name: "Enhet Norr BVC')
    finding = only(load_text(tmp_path, text))
    assert finding.message.startswith("YAML syntax error")
    assert finding.line >= line_of(text, '"Enhet Norr BVC')


def test_bad_indentation_is_a_syntax_error(tmp_path):
    text = variant("    email: norr@example.se", "      email: norr@example.se")
    finding = only(load_text(tmp_path, text))
    assert "YAML syntax error" in finding.message
    assert finding.line == line_of(text, "      email")


def test_duplicate_keys_are_refused(tmp_path):
    text = variant(
        "    email: bvc@example.se\n", "    email: bvc@example.se\n    email: x@example.se\n"
    )
    finding = only(load_text(tmp_path, text))
    assert finding.path == "units[1].email"
    assert finding.line == line_of(text, "x@example.se")
    assert f"first on line {line_of(text, 'bvc@example.se')}" in finding.message


def test_two_documents_in_one_file(tmp_path):
    finding = only(load_text(tmp_path, VALID + "---\nunits: []\n"))
    assert "more than one YAML document" in finding.message


def test_top_level_list_is_refused(tmp_path):
    finding = only(load_text(tmp_path, "- a\n- b\n"))
    assert "must be a mapping" in finding.message


def test_small_aliases_are_allowed(tmp_path):
    text = variant('rights: ["Läsa;alla;SJF"]', 'rights: &r ["Läsa;alla;SJF"]')
    text = text.replace("    valid_from: 2026-01-01\n", "    valid_from: 2026-01-01\n", 1)
    result = load_text(tmp_path, text)
    assert result.findings == [], texts(result)


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        prev = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([prev] * 10)}]")
    finding = only(load_text(tmp_path, "\n".join(lines) + "\n"))
    assert f"{MAX_ALIAS_EXPANSION:,}" in finding.message


def test_recursive_alias_is_refused(tmp_path):
    finding = only(load_text(tmp_path, "units: &u [*u]\n"))
    assert "contains itself" in finding.message


def test_merge_keys_are_refused(tmp_path):
    text = variant("  - hsa_id: SE5599123451-E110\n", "  - <<: {}\n    hsa_id: SE5599123451-E110\n")
    result = load_text(tmp_path, text)
    assert any("merge keys" in f.message for f in result.errors), texts(result)


def test_nfd_names_are_normalised_to_nfc(tmp_path):
    nfd = variant(
        "given_name: Åsa\n    surname: Öberg",
        "given_name: "
        + unicodedata.normalize("NFD", "Åsa")
        + "\n    surname: "
        + unicodedata.normalize("NFD", "Öberg"),
    )
    assert nfd != VALID
    person = load_text(tmp_path, nfd).model.person("SE5599123451-P101")
    assert person.given_name == "Åsa" and person.surname == "Öberg"
    assert (
        person.full_name == load_text(tmp_path, VALID).model.person("SE5599123451-P101").full_name
    )


def test_nfd_title_still_counts_as_doctor(tmp_path):
    nfd = variant("titles: [Läkare]", "titles: [" + unicodedata.normalize("NFD", "Läkare") + "]")
    result = load_text(tmp_path, nfd)
    assert result.findings == [], texts(result)
    assert result.model.person("SE5599123451-P101").titles == ("Läkare",)


def _many_people(count: int) -> str:
    parts = [
        PROVIDER,
        "units:\n  - hsa_id: SE5599123451-E100\n    name: Norr\n",
        '    email: norr@example.se\n    workplace_codes: ["4711001"]\n',
        "commissions:\n  - hsa_id: SE5599123451-M100\n    name: VoB\n",
        "    unit: SE5599123451-E100\n    members:\n",
    ]
    parts += [f"      - SE5599123451-P{n:06d}\n" for n in range(count)]
    parts.append("people:\n")
    parts += [
        f"  - hsa_id: SE5599123451-P{n:06d}\n    given_name: Åsa\n    surname: Öberg {n}\n"
        f"    titles: [Läkare]\n    prescriber_code: \"1234567\"\n"
        for n in range(count)
    ]
    return "".join(parts)


@pytest.mark.slow
def test_scale_50000_people_load_without_error(tmp_path):
    """Scale check (slow: a few seconds). Timings are in tools/bench/bench_validate.py."""
    text = _many_people(50_000)
    result = load_text(tmp_path, text)
    assert result.errors == [], texts(result)[:2000]
    assert len(result.model.people) == 50_000
    assert result.model.person("SE5599123451-P049999").surname == "Öberg 49999"


def test_file_above_the_size_limit_is_refused_without_reading(tmp_path, monkeypatch):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description import (
        yaml_reader as hsa_yaml,
    )

    monkeypatch.setattr(hsa_yaml, "MAX_FILE_BYTES", 1000)
    finding = only(load_text(tmp_path, VALID))
    assert "more than the" in finding.message and "split it" in finding.hint


def test_ten_mb_file_that_is_not_a_description_gets_a_plain_answer(tmp_path):
    data = b"x" * (10 * 1024 * 1024)  # e.g. a log file pasted by mistake
    finding = only(load_bytes(tmp_path, data))
    assert "must be a mapping" in finding.message
