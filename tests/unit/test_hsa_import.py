"""Import what is in HSA into the YAML description: exact round trip, comments, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.baseline import (
    baseline_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.importer import (
    DescriptionImportError,
    _scalar,
    entries_from_ldif,
    render_description,
    write_description,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    desired_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    make_plan,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (
    render_entries_ldif,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = "c=SE"


def round_trip(entries, tmp_path):
    dest = tmp_path / "imported"
    write_description(render_description(entries, "test.ldif"), str(dest))
    loaded = load_provider(dest)
    assert loaded.model is not None, [str(f) for f in loaded.errors]
    plan = make_plan(desired_entries(loaded.model, BASE), entries, BASE)
    return dest, loaded, plan


@pytest.mark.parametrize("name", ["example", "demo"])
def test_import_of_an_export_plans_no_change(name, tmp_path):
    original = load_provider(ROOT / "inventories" / name / "provider").model
    ldif = render_entries_ldif(baseline_entries(original, BASE))
    entries = entries_from_ldif(ldif)
    dest, loaded, plan = round_trip(entries, tmp_path)
    assert plan.operations == [] and plan.errors == []
    assert len(loaded.model.people) == len(original.people)
    # the documented layout: provider.yml and one file per care unit
    units = sorted(p.name for p in (dest / "units").iterdir())
    assert len(units) == len(original.units)
    assert (dest / "provider.yml").is_file()


LDIF = """\
version: 1

dn: o=Testvård AB,c=SE
objectClass: organization
objectClass: hsaHealthCareProvider
o: Testvård AB
hsaIdentity: SE5599123451-VG01
orgNo: 559912-3451
telephoneNumber: 08-123 45 67

dn: ou=Yes,o=Testvård AB,c=SE
objectClass: organizationalUnit
objectClass: hsaHealthCareUnit
ou: Yes
hsaIdentity: SE5599123451-E1
mail: a@example.se
unitPrescriptionCode: 0123456
hsaResponsibleHealthCareProvider: SE5599123451-VG01

dn: ou=Yes: no #1,o=Testvård AB,c=SE
objectClass: organizationalUnit
objectClass: hsaHealthCareUnit
ou: Yes: no #1
hsaIdentity: SE5599123451-E2
mail: b@example.se
unitPrescriptionCode: 7654321
hsaResponsibleHealthCareProvider: SE5599123451-VG01

dn: hsaIdentity=SE5599123451-P1,ou=Yes,o=Testvård AB,c=SE
objectClass: inetOrgPerson
objectClass: hsaPersonExtension
hsaIdentity: SE5599123451-P1
givenName: Åsa
sn: Öberg
cn: Dr Åsa Öberg
fullName: Åsa Öberg
hsaTitle: Läkare
personalPrescriptionCode: 0012345
title: Verksamhetschef
userCertificate;binary:: AAEC

dn: cn=Vård och behandling,ou=Yes,o=Testvård AB,c=SE
objectClass: hsaCommission
cn: Vård och behandling
hsaIdentity: SE5599123451-M1
hsaCommissionPurpose: Vård och behandling
hsaCommissionMember: SE5599123451-P1
hsaStartDate: 20260101083000Z

dn: cn=Administration,o=Testvård AB,c=SE
objectClass: hsaCommission
cn: Administration
hsaIdentity: SE5599123451-M9
hsaCommissionPurpose: Administration
"""


def test_unmanaged_values_become_comments_and_codes_keep_their_zeros(tmp_path):
    entries = entries_from_ldif(LDIF)
    with use_language("en"):
        files = render_description(entries, "export.ldif")
    assert "# telephoneNumber: 08-123 45 67" in files["provider.yml"]
    unit = next(t for n, t in files.items() if "SE5599123451-E1" in t and n.startswith("units/"))
    assert "# title: Verksamhetschef" in unit
    assert "# cn: Dr Åsa Öberg (the description writes cn = the full name)" in unit
    assert "# hsaStartDate: 20260101083000Z (the description keeps the date only)" in unit
    assert "userCertificate" not in "".join(files.values())
    # a commission directly under the provider cannot be described: commented out
    assert "#   - hsa_id: SE5599123451-M9" in files["provider.yml"]
    data = yaml.safe_load(unit)
    assert data["units"][0]["name"] == "Yes"  # a string, not the boolean true
    assert data["units"][0]["workplace_codes"] == ["0123456"]
    assert data["people"][0]["prescriber_code"] == "0012345"
    other = next(t for n, t in files.items() if "SE5599123451-E2" in t and n.startswith("units/"))
    assert yaml.safe_load(other)["units"][0]["name"] == "Yes: no #1"


def test_round_trip_with_comments_and_tricky_names(tmp_path):
    entries = entries_from_ldif(LDIF)
    _dest, _loaded, plan = round_trip(entries, tmp_path)
    # cn and the commission's time of day are the two values the model does not keep:
    # planning changes exactly those, nothing else
    changed = sorted((o.hsa_id, c.attribute) for o in plan.operations for c in o.changes)
    assert changed == [("SE5599123451-M1", "hsaStartDate"), ("SE5599123451-P1", "cn")]


@pytest.mark.parametrize("value", ["Yes", "no", "null", "~", "12", "0123", "a: b", "x #y",
                                   "-lead", "[list]", "Läsa;alla;SJF", "trail ", "'q'",
                                   "2026-01-01", "a,b", "{x}", "Åsa"])
def test_scalars_read_back_as_the_same_string(value):
    assert yaml.safe_load(f"k: {_scalar(value)}") == {"k": value}
    assert yaml.safe_load(f"k: [{_scalar(value)}]") == {"k": [value]}


@pytest.fixture
def english():
    with use_language("en"):
        yield


@pytest.mark.usefixtures("english")
def test_refusals_write_nothing(tmp_path):
    with pytest.raises(DescriptionImportError, match="no care provider"):
        render_description(entries_from_ldif("dn: ou=x,c=SE\nou: x\nobjectClass: top\n"))
    with pytest.raises(DescriptionImportError, match="change record"):
        entries_from_ldif("dn: ou=x,c=SE\nchangetype: delete\n")
    with pytest.raises(DescriptionImportError, match="not a valid LDIF"):
        entries_from_ldif("this is not: ldif\n\n:::\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "provider.yml").write_text("provider: {}\n", encoding="utf-8")
    files = render_description(entries_from_ldif(LDIF))
    with pytest.raises(DescriptionImportError, match="already holds YAML files"):
        write_description(files, str(tmp_path / "full"))
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["provider.yml"]


def test_comments_and_refusals_in_swedish_by_default(tmp_path):
    files = render_description(entries_from_ldif(LDIF), "export.ldif")
    assert files["provider.yml"].startswith(
        "# Importerad från export.ldif. Granska den och spara den sedan i git")
    assert "  # Finns inte i HSA: hur långt anslutningen till Webcert har kommit" in files[
        "provider.yml"]
    unit = next(t for n, t in files.items() if "SE5599123451-E1" in t and n.startswith("units/"))
    assert unit.startswith("# Yes (SE5599123451-E1): vårdenheten, dess medarbetaruppdrag och "
                           "dess personer.\n")
    assert "# cn: Dr Åsa Öberg (beskrivningen skriver cn = hela namnet)" in unit
    assert "# hsaStartDate: 20260101083000Z (beskrivningen behåller bara datumet)" in unit
    assert yaml.safe_load(unit)["people"][0]["given_name"] == "Åsa"
    with pytest.raises(DescriptionImportError, match=r"export\.ldif: ingen vårdgivare hittades"):
        render_description(entries_from_ldif("dn: ou=x,c=SE\nou: x\nobjectClass: top\n"),
                           "export.ldif")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "provider.yml").write_text("provider: {}\n", encoding="utf-8")
    with pytest.raises(DescriptionImportError, match="innehåller redan YAML-filer"):
        write_description(files, str(tmp_path / "full"))
