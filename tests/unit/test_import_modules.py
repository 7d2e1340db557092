"""The import modules (staff_import, hsa_import, hsa_baseline) run in-process: Swedish by
default, English with language=en; bad input names the file, the row or line and the field.

A pytest test, not an ``ansible-test units`` one (tests/unit/plugins): it reads the example
inventory and needs python-ldap, and the built collection that ansible-test runs holds
neither."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "provider"
MODULES = "ansible_collections.webcert_siths.onboarding.plugins.modules."
MAPPING = ("columns:\n  hsa_id: HSA-id\n  given_name: Förnamn\n  surname: Efternamn\n"
           "  unit: Enhet\n  end: Slutdatum\n")
STAFF = ("HSA-id;Förnamn;Efternamn;Enhet;Slutdatum\r\n"
         "SE5599123451-P150;Nils;Nyman;Vårdcentralen Sjövik Norr;\r\n"
         "SE5599123451-P151;Kim;;SE5599123451-E100;\r\n")


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, **kwargs):
        raise FailJson(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run(name: str, **args) -> tuple[str, dict]:
    module = importlib.import_module(MODULES + name)
    with patch_module_args(args):
        try:
            module.main()
        except ExitJson as done:
            return "exit", done.args[0]
        except FailJson as failed:
            return "fail", failed.args[0]
    raise AssertionError("the module returned without exit_json or fail_json")


@pytest.fixture
def staff(tmp_path) -> dict:
    provider = shutil.copytree(EXAMPLE, tmp_path / "provider")
    (tmp_path / "personal.csv").write_text(STAFF, encoding="utf-8")
    (tmp_path / "mapping.yml").write_text(MAPPING, encoding="utf-8")
    return {"staff_file": str(tmp_path / "personal.csv"),
            "mapping_file": str(tmp_path / "mapping.yml"), "provider_path": str(provider),
            "today": "2026-12-02"}


# ------------------------------------------------------------------------ staff_import


def test_staff_import_speaks_swedish_by_default(staff):
    how, result = run("staff_import", **staff)
    assert how == "exit" and result["changed"]
    assert result["summary"] == result["messages"][0]
    assert result["summary"].startswith("personal.csv: tillagda 1, ändrade 0, slutat 0, "
                                        "överhoppade rader 1")
    assert result["counts"]["added"] == 1
    assert result["skipped_rows"] == ["personal.csv, rad 3, kolumn 'Efternamn': efternamn saknas"]
    assert "1 rad kunde inte användas och hoppades över:" in result["messages"]
    assert "# tillagd från personal.csv (rad 2)" in result["diff_text"]


def test_staff_import_in_english_on_request(staff):
    how, result = run("staff_import", language="en", **staff)
    assert how == "exit"
    assert result["skipped_rows"] == [
        "personal.csv, row 3, column 'Efternamn': the surname is empty"]
    assert "1 row could not be used and was skipped:" in result["messages"]
    assert result["messages"][-1].startswith("Files changed: units/norr.yml.")
    how, result = run("staff_import", language="en", **{**staff, "staff_file": ""})
    assert how == "fail" and result["msg"].startswith(
        "Give the staff list and the mapping of its columns, for example -e staff_file=")


def test_staff_import_stops_naming_the_file_and_writes_nothing(staff, tmp_path):
    (tmp_path / "mapping.yml").write_text(MAPPING.replace("Enhet", "Avdelning"),
                                          encoding="utf-8")
    before = Path(staff["provider_path"], "units", "norr.yml").read_text(encoding="utf-8")
    how, result = run("staff_import", **staff)
    assert how == "fail"
    assert result["msg"].startswith(f"{staff['staff_file']}: rad 1 har ingen kolumn "
                                    "'Avdelning' (columns.unit i kolumnmappningen)")
    assert result["msg"].endswith("; ingenting har skrivits")
    assert Path(staff["provider_path"], "units", "norr.yml").read_text(
        encoding="utf-8") == before


# ------------------------------------------------------------------------ hsa_import

LDIF = """\
dn: o=Sjöviks Vård AB,c=SE
objectClass: organization
objectClass: hsaHealthCareProvider
o: Sjöviks Vård AB
hsaIdentity: SE5599123451-VG01
orgNo: 559912-3451

dn: ou=Norr,o=Sjöviks Vård AB,c=SE
objectClass: organizationalUnit
objectClass: hsaHealthCareUnit
ou: Norr
hsaIdentity: SE5599123451-E100
mail: norr@example.se
unitPrescriptionCode: 4711001
hsaResponsibleHealthCareProvider: SE5599123451-VG01
street: Storgatan 1
"""


@pytest.fixture
def ldif(tmp_path) -> Path:
    path = tmp_path / "export.ldif"
    path.write_text(LDIF, encoding="utf-8")
    return path


def test_hsa_import_speaks_swedish_by_default(ldif, tmp_path):
    dest = tmp_path / "imported"
    how, result = run("hsa_import", ldif=str(ldif), dest=str(dest))
    assert how == "exit", result
    assert result["summary"] == (f"Skrev 2 filer till {dest}: vårdenheter 1, personer 0, "
                                 "medarbetaruppdrag 0.")
    assert result["counts"] == {"units": 1, "people": 0, "commissions": 0}
    assert result["messages"][1].startswith("Nästa steg: granska filerna")
    assert (dest / "provider.yml").read_text(encoding="utf-8").startswith(
        "# Importerad från export.ldif.")
    how, result = run("hsa_import", ldif=str(ldif), dest=str(dest))
    assert how == "fail"
    assert result["msg"] == (f"{dest} innehåller redan YAML-filer; importera till en tom mapp "
                             "(jämför och slå sedan ihop med git); ingenting har skrivits")


def test_hsa_import_in_english_on_request(ldif, tmp_path):
    dest = tmp_path / "imported"
    how, result = run("hsa_import", ldif=str(ldif), dest=str(dest), language="en",
                      _ansible_check_mode=True)
    assert how == "exit", result
    assert result["summary"] == (f"Would write 2 files to {dest} (check mode, nothing "
                                 "written).")
    assert not dest.exists()
    how, result = run("hsa_import", ldif=str(ldif), dest="", language="en")
    assert how == "fail" and result["msg"].startswith(
        "Give the folder to write the description into, for example -e hsa_import_dest=")
    ldif.write_text("dn: ou=x,c=SE\nchangetype: delete\n", encoding="utf-8")
    how, result = run("hsa_import", ldif=str(ldif), dest=str(dest), language="en")
    assert how == "fail" and result["msg"].startswith(
        "export.ldif: ou=x,c=SE is a change record (changetype)")


# ------------------------------------------------------------------------ hsa_baseline


def test_hsa_baseline_speaks_swedish_by_default(tmp_path):
    how, result = run("hsa_baseline", provider_path=str(EXAMPLE), baseline="none",
                      date="2026-12-02")
    assert how == "exit", result
    assert result["note"] == ("tom baslinje (inget registrerat i HSA ännu): allt i "
                              "beskrivningen är nytt")
    assert result["summary"].endswith("väntar på att registreras i HSA.")
    how, result = run("hsa_baseline", provider_path=str(EXAMPLE), baseline="no-such-tag")
    assert how == "fail"
    assert result["msg"].startswith("hsa_baseline 'no-such-tag' är varken en mapp eller en "
                                    "git-referens")


def test_hsa_baseline_in_english_on_request(tmp_path):
    how, result = run("hsa_baseline", provider_path=str(EXAMPLE), baseline="none",
                      date="2026-12-02", language="en")
    assert how == "exit", result
    assert result["note"] == "empty baseline: everything in the description is new"
    assert result["summary"].endswith("are waiting to be registered in HSA.")
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    how, result = run("hsa_baseline", provider_path=str(EXAMPLE), baseline=str(broken / "nope"),
                      language="en")
    assert how == "fail" and "hsa_baseline" in result["msg"]
    (broken / "provider.yml").write_text("provider: {}\n", encoding="utf-8")
    how, result = run("hsa_baseline", provider_path=str(broken), baseline="none", language="en")
    assert how == "fail"
    assert result["msg"].startswith("The provider description has ")
    assert "; nothing was written:\n" in result["msg"]
