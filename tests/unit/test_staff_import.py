"""Staff list (CSV/XLSX) merged into the description: added, updated, leavers, refusals."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.staff import (
    StaffError,
    merge_staff,
    read_mapping,
    read_staff,
    validate_merged,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "provider"
TODAY = dt.date(2026, 12, 2)
MAPPING = """\
# Our HR system's export
columns:
  hsa_id: HSA-id
  given_name: Förnamn
  surname: Efternamn
  titles: Yrke
  prescriber_code: Förskrivarkod
  position: Befattning
  unit: Enhet
  mail: E-post
  start: Startdatum
  end: Slutdatum
"""
HEADER = "HSA-id;Förnamn;Efternamn;Yrke;Förskrivarkod;Befattning;Enhet;E-post;Startdatum;Slutdatum"
ROWS = [
    # 2: unchanged
    "SE5599123451-P103;Maria;Nilsson;Sjuksköterska;;Distriktssköterska;SE5599123451-E100;"
    "maria.nilsson@sjovikvard.example.se;;",
    # 3: changed surname
    "SE5599123451-P101;Åsa;Öberg Lind;Läkare;1234567;Distriktsläkare;SE5599123451-E100;"
    "asa.oberg@sjovikvard.example.se;;",
    # 4: new, unit given by name
    "SE5599123451-P150;Nils;Nyman;Sjuksköterska;;;Vårdcentralen Sjövik Norr;;2026-12-15;",
    # 5: left
    "SE5599123451-P104;Johan;Berg;;;Medicinsk sekreterare;SE5599123451-E100;;;2026-11-30",
    # 6: unusable: bad HSA-id
    "P-99;X;Y;;;;SE5599123451-E100;;;",
    # 7: unusable: unknown unit
    "SE5599123451-P151;Ann;Ek;;;;Okänd mottagning;;;",
    # 8: unusable: bad date and bad prescriber code
    "SE5599123451-P152;Bo;Al;Läkare;12345;;SE5599123451-E100;;31/13/2026;",
]


@pytest.fixture
def english():
    """The messages in English (webcert_language: en); Swedish is the default."""
    with use_language("en"):
        yield


@pytest.fixture
def provider(tmp_path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "provider"))


def write(tmp_path, rows=ROWS, mapping=MAPPING, header=HEADER, name="staff.csv") -> tuple:
    staff = tmp_path / name
    staff.write_bytes(("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))
    m = tmp_path / "mapping.yml"
    m.write_text(mapping, encoding="utf-8")
    return str(staff), str(m)


def merge(provider, staff, mapping):
    rows, problems = read_staff(staff, read_mapping(mapping))
    result = merge_staff(str(provider), rows, today=TODAY, source="staff.csv")
    return result, problems


def apply(provider, result):
    for rel, text in result.files.items():
        (provider / rel).write_text(text, encoding="utf-8")
    loaded = load_provider(provider)
    assert loaded.model is not None, [str(f) for f in loaded.errors]
    return loaded.model


def test_csv_merge_adds_updates_and_marks_leavers_without_deleting(provider, tmp_path):
    before = load_provider(provider).model
    result, problems = merge(provider, *write(tmp_path))
    assert [(p.row, p.column) for p in problems] == [
        (6, "HSA-id"), (8, "Förskrivarkod"), (8, "Startdatum")]
    assert [(p.row, p.value) for p in result.problems] == [(7, "Okänd mottagning")]
    assert [a["hsa_id"] for a in result.added] == ["SE5599123451-P150"]
    assert result.added[0]["file"] == "units/norr.yml"
    assert result.updated == [{"row": 3, "hsa_id": "SE5599123451-P101", "fields": ["surname"]}]
    assert [x["hsa_id"] for x in result.leavers] == ["SE5599123451-P104"]
    assert sorted(result.files) == ["units/norr.yml"]
    after = apply(provider, result)
    assert len(after.people) == len(before.people) + 1  # nobody deleted
    assert after.person("SE5599123451-P101").surname == "Öberg Lind"
    assert after.person("SE5599123451-P104").uses_webcert is False
    members = after.commission("SE5599123451-M100").members
    assert "SE5599123451-P150" in members and "SE5599123451-P104" not in members
    # not in the list: reported, never changed
    assert {p["hsa_id"] for p in result.not_in_list} == {"SE5599123451-P102"}
    assert after.person("SE5599123451-P102") == before.person("SE5599123451-P102").__class__(
        **{**before.person("SE5599123451-P102").__dict__,
           "origin": after.person("SE5599123451-P102").origin})


@pytest.mark.usefixtures("english")
def test_comments_and_layout_of_the_users_yaml_stay(provider, tmp_path):
    original = (provider / "units" / "norr.yml").read_text(encoding="utf-8")
    result, _ = merge(provider, *write(tmp_path))
    text = result.files["units/norr.yml"]
    assert text.startswith(original.splitlines()[0])  # the file's comment header
    assert "# AT-läkare: no licence yet" in text
    assert '    prescriber_code: "1234567"' in text
    assert "      - {code: \"204010\", name: AT-läkare}" in text
    assert "# added from staff.csv (row 4); starts 2026-12-15" in text
    assert "uses_webcert: false  # left 2026-11-30 according to staff.csv (row 5)" in text
    changed = [ln for ln in original.splitlines() if ln not in text.splitlines()]
    assert sorted(changed) == ["      - SE5599123451-P104", "    surname: Öberg"]


@pytest.mark.usefixtures("english")
def test_xlsx_with_numbers_and_dates(provider, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Personal"
    sheet.append(["HSA-id", "Förnamn", "Efternamn", "Förskrivarkod", "Enhet", "Slutdatum"])
    sheet.append(["SE5599123451-P160", "Eva", "Ek", 123456, "SE5599123451-E200", None])
    sheet.append(["SE5599123451-P104", "Johan", "Berg", None, "SE5599123451-E100",
                  dt.datetime(2026, 1, 31)])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["SE5599123451-P161", "", "Tom", None, "SE5599123451-E200", None])
    path = tmp_path / "staff.xlsx"
    book.save(path)
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("sheet: Personal\ncolumns:\n  hsa_id: HSA-id\n  given_name: Förnamn\n"
                       "  surname: Efternamn\n  prescriber_code: Förskrivarkod\n"
                       "  unit: Enhet\n  end: Slutdatum\n", encoding="utf-8")
    rows, problems = read_staff(str(path), read_mapping(str(mapping)))
    assert [(p.row, p.column, p.message) for p in problems] == [
        (5, "Förnamn", "the given name is empty")]
    assert rows[0].values["prescriber_code"] == "0123456"  # Excel dropped the zero
    assert rows[1].values["end"] == dt.date(2026, 1, 31)
    result = merge_staff(str(provider), rows, today=TODAY)
    after = apply(provider, result)
    assert after.person("SE5599123451-P160").prescriber_code == "0123456"
    assert after.person("SE5599123451-P160").unit == "SE5599123451-E200"
    assert after.person("SE5599123451-P104").uses_webcert is False


def test_empty_flow_lists_become_block_lists(tmp_path):
    folder = tmp_path / "p"
    (folder / "units").mkdir(parents=True)
    (folder / "provider.yml").write_text(
        'provider:\n  hsa_id: SE5599123451-VG01\n  name: Testvård AB\n  org_no: "559912-3451"\n',
        encoding="utf-8")
    (folder / "units" / "e1.yml").write_text(
        "units:\n  - hsa_id: SE5599123451-E1\n    name: Enhet\n    email: e@example.se\n"
        '    workplace_codes: ["1234567"]\ncommissions:\n  - hsa_id: SE5599123451-M1\n'
        "    name: Vård och behandling\n    unit: SE5599123451-E1\n    members: []\n"
        "people: []\n  # people go here\n", encoding="utf-8")
    staff, mapping = write(tmp_path, rows=[
        "SE5599123451-P1;Ada;Berg;Läkare;7654321;;SE5599123451-E1;;;"])
    result, _ = merge(folder, staff, mapping)
    text = result.files["units/e1.yml"]
    data = yaml.safe_load(text)
    assert data["commissions"][0]["members"] == ["SE5599123451-P1"]
    assert data["people"][0]["hsa_id"] == "SE5599123451-P1"
    assert "    members:\n      - SE5599123451-P1\n" in text
    assert validate_merged(str(folder), result.files).model is not None


@pytest.mark.parametrize(("mapping", "header", "message"), [
    (MAPPING, HEADER.replace("Enhet", "Avdelning"),
     "staff.csv: row 1 has no column 'Enhet' (columns.unit in the mapping)"),
    (MAPPING.replace("  unit: Enhet\n", ""), HEADER, "columns.unit is required"),
    (MAPPING.replace("given_name:", "givenname:"), HEADER,
     "columns.givenname is not a field the import knows (did you mean 'given_name'?)"),
    ("columns: [a, b]\n", HEADER, "the mapping needs a 'columns:' section"),
    ("columns:\n  hsa_id: [\n", HEADER, "mapping.yml:3: not valid YAML"),
])
@pytest.mark.usefixtures("english")
def test_unusable_input_stops_with_file_row_and_field(provider, tmp_path, mapping, header,
                                                       message):
    staff, m = write(tmp_path, mapping=mapping, header=header)
    with pytest.raises(StaffError) as err:
        read_staff(staff, read_mapping(m))
    assert message in str(err.value)


@pytest.mark.usefixtures("english")
def test_duplicate_rows_and_a_person_who_left_before_being_added(provider, tmp_path):
    rows = [ROWS[2], ROWS[2], "SE5599123451-P170;Old;Timer;;;;SE5599123451-E100;;;2020-01-01"]
    result, problems = merge(provider, *write(tmp_path, rows=rows))
    assert [(p.row, "also on row 2" in p.message) for p in problems] == [(3, True)]
    assert [(p.row, "has left") for p in result.problems if "has left" in p.message] == [
        (4, "has left")]
    assert [a["hsa_id"] for a in result.added] == ["SE5599123451-P150"]


def test_swedish_by_default_rows_comments_and_summary_name_file_row_and_column(provider,
                                                                              tmp_path):
    result, problems = merge(provider, *write(tmp_path))
    result.problems[:0] = problems
    result.problems.sort(key=lambda x: x.row)
    shown = [str(p) for p in result.problems]
    assert shown[0] == "staff.csv, rad 6, kolumn 'HSA-id': 'P-99' " + problems[0].message
    assert ("staff.csv, rad 7, kolumn 'Enhet': 'Okänd mottagning' är ingen vårdenhet i "
            "beskrivningen (skriv vårdenhetens HSA-id eller dess namn som i beskrivningen)"
            in shown)
    assert ("staff.csv, rad 8, kolumn 'Startdatum': '31/13/2026' är inte ett datum (skriv det "
            "som ÅÅÅÅ-MM-DD)") in shown
    text = result.files["units/norr.yml"]
    assert "# tillagd från staff.csv (rad 4); börjar 2026-12-15" in text
    assert "uses_webcert: false  # slutade 2026-11-30 enligt staff.csv (rad 5)" in text
    lines = result.messages("staff.csv")
    assert lines[0] == ("staff.csv: tillagda 1, ändrade 1, slutat 1, överhoppade rader 4, "
                        "ändrade filer 1.")
    assert any(ln.startswith("Tillagd: Nils Nyman (SE5599123451-P150), rad 4, på vårdenheten "
                             "Vårdcentralen Sjövik Norr och som medarbetare i "
                             "medarbetaruppdraget SE5599123451-M100") for ln in lines)
    assert "Ändrad: SE5599123451-P101, rad 3: efternamn." in lines
    assert "4 rader kunde inte användas och hoppades över:" in lines
    assert lines[-1].startswith("Ändrade filer: units/norr.yml. Granska ändringen med git diff")


def test_english_on_request(provider, tmp_path):
    with use_language("en"):
        result, problems = merge(provider, *write(tmp_path))
        lines = result.messages("staff.csv", written=False)
        with pytest.raises(StaffError, match=r"mapping.yml: columns.unit is required: the "
                                             r"column with the care unit"):
            read_mapping(write(tmp_path, mapping=MAPPING.replace("  unit: Enhet\n", ""))[1])
        assert str(problems[0]).startswith("staff.csv, row 6, column 'HSA-id': 'P-99' ")
    assert "# added from staff.csv (row 4); starts 2026-12-15" in result.files["units/norr.yml"]
    assert lines[0] == ("staff.csv: added 1, updated 1, leavers 1, rows skipped 1, "
                        "files changed 1.")
    assert "Updated: SE5599123451-P101, row 3: surname." in lines
    assert lines[-1] == "Files that would change (check mode, nothing written): units/norr.yml."
    with pytest.raises(StaffError, match="kolumnmappningen behöver en del 'columns:'"):
        read_mapping(write(tmp_path, mapping="columns: [a]\n")[1])
