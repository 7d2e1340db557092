"""The reconciler's pure core: mapping, diff, ordering, safety rules and renderings."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.change_request import (
    build_change_request,
    render_request_csv,
    render_request_markdown,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    MANAGED,
    MATCHING_RULE,
    desired_entries,
    entries_to_model,
    escape_rdn_value,
    make_entry,
    match_key,
    normalize_dn,
    parse_dn,
    parse_generalized_time,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    make_plan,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (
    render_ldif,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_text import (
    render_text,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from hsa_builders import commission, model, person, replace, small_model, unit

BASE = "c=SE"
ROOT = Path(__file__).resolve().parents[2]


def as_directory(m, base=BASE, tweak=None):
    """The entries apply would create for model ``m`` (what a synced directory holds)."""
    out = []
    for e in desired_entries(m, base).entries:
        attrs = {"objectClass": e.object_classes, **{k: v for k, v in e.attributes.items() if v}}
        if tweak:
            attrs = tweak(e, dict(attrs))
        out.append(make_entry(e.dn, attrs))
    return out


def plan_for(m, actual, **kw):
    return make_plan(desired_entries(m, BASE), actual, BASE, **kw)


def ops(plan):
    return [(o.op, o.hsa_id) for o in plan.operations]


# --------------------------------------------------------------------------- DNs and values


def test_rdn_values_are_escaped_so_names_cannot_address_another_entry():
    assert escape_rdn_value("a,b=c") == "a\\,b\\=c"
    assert escape_rdn_value(" x ") == "\\ x\\ "
    assert escape_rdn_value("#x") == "\\#x"
    m = model(units=[unit("SE5565594230-U1", "a,b=c+d")])
    dn = desired_entries(m, BASE).entries[1].dn
    assert parse_dn(dn)[0] == [("ou", "a,b=c+d")]
    assert len(parse_dn(dn)) == 3


def test_dn_comparison_ignores_case_spacing_and_escaping_style():
    assert normalize_dn("OU=Norr ,o=Vård\\2C AB,c=se") == normalize_dn("ou=norr,O=vård\\, ab,C=SE")
    assert normalize_dn("ou=Norr,c=SE") != normalize_dn("ou=Söder,c=SE")


def test_values_compare_like_case_ignore_match_after_nfc():
    decomposed = "La\u0308kare"  # "Läkare" with a combining diaeresis
    assert match_key("hsaTitle", decomposed) == match_key("HSATITLE", "LÄKARE")
    assert match_key("sn", "Öberg  Ek ") == match_key("sn", "öberg ek")


def test_generalized_time_compares_instants_not_spellings():
    assert match_key("hsaStartDate", "20260101000000Z") == match_key("hsastartdate",
                                                                     "202601010100+0100")
    assert parse_generalized_time("2026010112Z") == dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    assert parse_generalized_time("not a time") is None


def test_matching_rule_table_agrees_with_the_schema():
    text = (ROOT / "schema" / "hsa.schema").read_text(encoding="utf-8")
    rules = dict(re.findall(r"NAME '(\w+)'.*?EQUALITY (\w+)", text, flags=re.S))
    managed = {a for attrs in MANAGED.values() for a in attrs}
    for name, rule in rules.items():
        if name in managed:
            assert MATCHING_RULE.get(name.lower(), "caseIgnoreMatch") == rule, name


# --------------------------------------------------------------------------- mapping


def test_layout_follows_the_architecture():
    entries = {e.hsa_id: e for e in desired_entries(small_model(), BASE).entries}
    assert entries["SE5565594230-PROV"].dn == "o=Vårdbolaget Norr AB,c=SE"
    assert entries["SE5565594230-U2"].dn == (
        "ou=Barnavård,ou=Mottagning Norr,o=Vårdbolaget Norr AB,c=SE")
    assert entries["SE5565594230-P1"].dn.startswith(
        "hsaIdentity=SE5565594230-P1,ou=Mottagning Norr,")
    assert entries["SE5565594230-C2"].dn.startswith("cn=Vård Barn,ou=Barnavård,")
    assert "hsaPersonExtension" in entries["SE5565594230-P1"].object_classes
    p1 = entries["SE5565594230-P1"].attributes
    assert p1["hsaSosTitleCodeSpeciality"] == ("101;1100;Allmänmedicin",)
    assert p1["paTitleCode"] == ("201010",) and p1["paTitleName"] == ("Överläkare",)
    assert entries["SE5565594230-U1"].attributes["hsaHealthCareUnitMember"] == ("SE5565594230-U2",)


def test_commission_dates_are_generalized_time():
    c = commission("SE5565594230-C9", "X", "SE5565594230-U1", valid_from=dt.date(2026, 2, 1))
    m = model(units=[unit("SE5565594230-U1", "A")], commissions=[c])
    attrs = desired_entries(m, BASE).entries[-1].attributes
    assert attrs["hsaStartDate"] == ("20260201000000Z",) and attrs["hsaEndDate"] == ()


def test_two_units_with_one_name_under_one_parent_is_an_error():
    m = model(units=[unit("SE5565594230-U1", "Norr"), unit("SE5565594230-U2", "NORR")])
    errors = desired_entries(m, BASE).errors
    assert len(errors) == 1 and "skulle få samma namn i katalogen som vårdenheten" in str(errors[0])
    with use_language("en"):
        errors = desired_entries(m, BASE).errors
    assert "would get the same name in the directory as the care unit SE5565594230-U1" in str(
        errors[0]) and "For IT: ou=NORR,o=Vårdbolaget Norr AB,c=SE" in str(errors[0])


def test_entries_to_model_reads_back_what_was_mapped():
    actual = entries_to_model(as_directory(small_model()), BASE)
    assert actual.provider.hsa_id == "SE5565594230-PROV"
    assert actual.provider.origin.file == "o=Vårdbolaget Norr AB,c=SE"
    assert actual.unit("SE5565594230-U2").parent == "SE5565594230-U1"
    p3 = actual.person("SE5565594230-P3")
    assert p3.unit == "SE5565594230-U2" and p3.group_prescriber_codes == ("9300005",)
    assert actual.person("SE5565594230-P1").specialities[0].name == "Allmänmedicin"
    assert actual.commission("SE5565594230-C2").unit == "SE5565594230-U2"
    assert actual.commissions_of("SE5565594230-P1")[0].hsa_id == "SE5565594230-C1"
    assert entries_to_model([], BASE) is None


# --------------------------------------------------------------------------- diff


def test_empty_directory_gets_everything_in_order():
    plan = plan_for(small_model(), [])
    kinds = [o.kind for o in plan.operations]
    assert kinds == ["provider", "unit", "unit", "person", "person", "person",
                     "commission", "commission"]
    assert plan.counts == {"add": 8, "modify": 0, "modrdn": 0, "delete": 0}


def test_synced_directory_gives_an_empty_plan():
    plan = plan_for(small_model(), as_directory(small_model()))
    assert plan.operations == [] and not plan.changed


def test_case_spacing_nfc_and_attribute_name_case_are_not_changes():
    def tweak(e, attrs):
        if e.kind == "person":
            attrs = {k.upper(): v for k, v in attrs.items()}
            attrs["HSATITLE"] = tuple(unicodedata.normalize("NFD", t).upper()
                                      for t in attrs.get("HSATITLE", ()))
        return attrs

    assert plan_for(small_model(), as_directory(small_model(), tweak=tweak)).operations == []


def test_unmanaged_attributes_are_not_touched():
    def tweak(e, attrs):
        attrs["telephoneNumber"] = ("+46 8 123",)
        attrs["description"] = ("by someone else",)
        return attrs

    assert plan_for(small_model(), as_directory(small_model(), tweak=tweak)).operations == []


def test_changed_single_value_is_delete_old_add_new():
    desired = small_model()
    actual = as_directory(desired)
    m2 = replace(desired, people=(replace(desired.people[0], surname="Berg",
                                          full_name="Åsa Berg"), *desired.people[1:]))
    plan = plan_for(m2, actual)
    assert ops(plan) == [("modify", "SE5565594230-P1")]
    changes = {c.attribute: c for c in plan.operations[0].changes}
    assert set(changes) == {"sn", "cn", "fullName"}
    assert changes["sn"].delete == ("Öberg",) and changes["sn"].add == ("Berg",)


def test_multi_valued_attributes_change_as_sets():
    desired = small_model()
    actual = as_directory(desired)
    c1 = replace(desired.commissions[0], members=("SE5565594230-P2", "SE5565594230-P3"))
    plan = plan_for(replace(desired, commissions=(c1, desired.commissions[1])), actual)
    change = plan.operations[0].changes[0]
    assert change.attribute == "hsaCommissionMember"
    assert change.delete == ("SE5565594230-P1",) and change.add == ("SE5565594230-P3",)


def test_removed_optional_value_is_deleted():
    desired = small_model()
    actual = as_directory(desired)
    p1 = replace(desired.people[0], mail=None)
    plan = plan_for(replace(desired, people=(p1, *desired.people[1:])), actual)
    (change,) = plan.operations[0].changes
    assert (change.attribute, change.delete, change.add) == ("mail", ("asa@example.se",), ())


def test_renamed_unit_is_modrdn_and_its_subtree_follows():
    desired = small_model()
    actual = as_directory(desired)
    u1 = replace(desired.units[0], name="Mottagning Nord")
    plan = plan_for(replace(desired, units=(u1, desired.units[1])), actual)
    assert ops(plan) == [("modrdn", "SE5565594230-U1")]
    op = plan.operations[0]
    assert op.new_rdn == "ou=Mottagning Nord" and op.new_superior is None


def test_person_moved_to_another_unit_is_modrdn_with_new_superior():
    desired = small_model()
    actual = as_directory(desired)
    p2 = replace(desired.people[1], unit="SE5565594230-U2")
    plan = plan_for(replace(desired, people=(desired.people[0], p2, desired.people[2])), actual)
    assert ops(plan) == [("modrdn", "SE5565594230-P2")]
    assert plan.operations[0].new_superior.startswith("ou=Barnavård,")


def test_sub_unit_moved_to_top_then_parent_renamed():
    desired = small_model()
    actual = as_directory(desired)
    u1 = replace(desired.units[0], name="Nord")
    u2 = replace(desired.units[1], parent=None)
    plan = plan_for(replace(desired, units=(u1, u2)), actual)
    assert [o.op for o in plan.operations] == ["modrdn", "modify", "modrdn"]
    assert plan.operations[1].changes[0].delete == ("SE5565594230-U2",)
    move_u2 = plan.operations[2]
    assert move_u2.dn.startswith("ou=Barnavård,ou=Nord,")  # after the parent's rename
    assert move_u2.new_superior == "o=Vårdbolaget Norr AB,c=SE"


def test_a_kind_mismatch_is_an_error():
    desired = small_model()
    actual = as_directory(desired)
    u = replace(desired.units[0], hsa_id="SE5565594230-P1")
    plan = plan_for(replace(desired, units=(u,), people=(), commissions=()), actual)
    assert any("SE5565594230-P1 är en person i katalogen men en vårdenhet i beskrivningen" in e
               for e in plan.errors), plan.errors
    with use_language("en"):
        plan = plan_for(replace(desired, units=(u,), people=(), commissions=()), actual)
    assert any("is a person in the directory but a care unit in the description" in e
               for e in plan.errors), plan.errors


# --------------------------------------------------------------------------- pruning


def _leaver():
    desired = small_model()
    actual = as_directory(desired)
    c2 = replace(desired.commissions[1], members=())
    return replace(desired, people=desired.people[:2],
                   commissions=(desired.commissions[0], c2)), actual


def test_without_prune_a_leaver_is_unmanaged_but_membership_is_removed():
    m, actual = _leaver()
    plan = plan_for(m, actual)
    assert ops(plan) == [("modify", "SE5565594230-C2")]
    assert [(u["hsa_id"], u["action"]) for u in plan.unmanaged] == [("SE5565594230-P3", "kept")]


def test_with_prune_membership_is_removed_before_the_person_is_deleted():
    m, actual = _leaver()
    plan = plan_for(m, actual, prune=True)
    assert ops(plan) == [("modify", "SE5565594230-C2"), ("delete", "SE5565594230-P3")]


def test_prune_refuses_more_than_max_deletes():
    desired = small_model()
    actual = as_directory(desired)
    m = replace(desired, people=desired.people[:1], commissions=())
    plan = plan_for(m, actual, prune=True, max_deletes=3)
    assert any("ta bort 4 poster ur katalogen, fler än max_deletes (3)" in e
               and "höj hsa_max_deletes till 4" in e for e in plan.errors), plan.errors
    assert not plan_for(m, actual, prune=True, max_deletes=4).errors


def test_an_empty_description_never_deletes():
    actual = as_directory(small_model())
    plan = plan_for(model(), actual, prune=True, max_deletes=1000)
    assert any("beskrivningen har inga vårdenheter, personer eller medarbetaruppdrag" in e
               for e in plan.errors), plan.errors
    assert not [o for o in plan.operations if o.op == "delete"]


def test_deletes_are_deepest_first_and_never_outside_the_provider():
    actual = as_directory(small_model())
    other = make_entry("hsaIdentity=SE1,o=Annan,c=SE",
                       {"objectClass": ("inetOrgPerson", "hsaPersonExtension"),
                        "hsaIdentity": ("SE1",)})
    m = model(units=[unit("SE5565594230-U9", "Ny")])
    plan = plan_for(m, [*actual, other], prune=True, max_deletes=100)
    deletes = [o for o in plan.operations if o.op == "delete"]
    depths = [len(parse_dn(o.dn)) for o in deletes]
    assert depths == sorted(depths, reverse=True)
    assert "SE1" not in [o.hsa_id for o in deletes]
    assert next(u for u in plan.unmanaged if u["hsa_id"] == "SE1")["action"].startswith("kept")


def test_an_entry_with_kept_entries_below_is_not_deleted():
    actual = as_directory(small_model())
    foreign = make_entry("cn=printer,ou=Barnavård,ou=Mottagning Norr,o=Vårdbolaget Norr AB,c=SE",
                         {"objectClass": ("device",), "cn": ("printer",)})
    desired = small_model()
    m = replace(desired, units=desired.units[:1], people=desired.people[:2],
                commissions=desired.commissions[:1])
    plan = plan_for(m, [*actual, foreign], prune=True)
    deleted = [o.hsa_id for o in plan.operations if o.op == "delete"]
    assert "SE5565594230-U2" not in deleted and "SE5565594230-P3" in deleted
    assert ("En post som inte längre finns i beskrivningen tas inte bort, eftersom 1 post under "
            "den finns kvar. För IT: ou=Barnavård,ou=Mottagning Norr,o=Vårdbolaget Norr AB,c=SE, "
            "under den cn=printer,ou=Barnavård,ou=Mottagning Norr,o=Vårdbolaget Norr AB,c=SE."
            in plan.warnings), plan.warnings


def test_duplicate_hsa_id_in_the_directory_is_an_error():
    actual = as_directory(small_model())
    dup = make_entry("hsaIdentity=SE5565594230-P1,c=SE",
                     {"objectClass": ("inetOrgPerson", "hsaPersonExtension"),
                      "hsaIdentity": ("se5565594230-p1",)})
    errors = plan_for(small_model(), [*actual, dup]).errors
    assert any(e.startswith("HSA-id se5565594230-p1 finns på två poster i katalogen") or
               e.startswith("HSA-id SE5565594230-P1 finns på två poster i katalogen")
               for e in errors), errors


def test_entries_outside_the_base_are_ignored():
    outside = make_entry("hsaIdentity=X,o=Other,c=NO",
                         {"objectClass": ("hsaPersonExtension",), "hsaIdentity": ("X",)})
    plan = plan_for(small_model(), [*as_directory(small_model()), outside], prune=True)
    assert plan.operations == [] and plan.unmanaged == []


# --------------------------------------------------------------------------- rendering


def test_text_shows_before_and_after_per_attribute():
    desired = small_model()
    actual = as_directory(desired)
    p2 = replace(desired.people[1], titles=("Sjuksköterska", "Barnmorska"))
    plan = plan_for(replace(desired, people=(desired.people[0], p2, desired.people[2])), actual)
    with use_language("en"):
        text = render_text(plan)
    assert '~ modify person SE5565594230-P2' in text
    assert ('    Licensed profession (hsaTitle): "Sjuksköterska" → ["Sjuksköterska", "Barnmorska"]'
            in text)
    assert "Plan: 0 to add, 1 to modify" in text


def test_text_is_swedish_by_default_and_keeps_ldap_names_and_values():
    desired = small_model()
    actual = as_directory(desired)
    p2 = replace(desired.people[1], titles=("Sjuksköterska", "Barnmorska"))
    plan = plan_for(replace(desired, people=(desired.people[0], p2)), actual, prune=True)
    text = render_text(plan)
    assert "~ ändra person SE5565594230-P2: " in text
    # HSA Admin's name of the field first, the LDAP attribute after it for IT.
    assert ('    Legitimerad yrkesgrupp (hsaTitle): "Sjuksköterska" → ["Sjuksköterska", '
            '"Barnmorska"]' in text)
    assert "- ta bort person SE5565594230-P3: " in text
    assert text.splitlines()[-1].startswith(
        "Plan: 0 läggs till, 1 ändras, 0 flyttas eller byter namn, ")
    assert "modify" not in text and "to add" not in text
    with use_language("sv"):
        assert render_text(plan) == text
    with use_language("en"):
        assert render_text(plan) != text


def test_summary_says_one_unmanaged_entry_in_the_singular():
    desired = small_model()
    actual = as_directory(desired)
    plan = plan_for(replace(desired, people=desired.people[:2]), actual)
    assert len(plan.unmanaged) == 1, plan.unmanaged
    assert render_text(plan).endswith("; 1 post i katalogen finns inte i beskrivningen.\n")
    with use_language("en"):
        assert render_text(plan).endswith("; 1 unmanaged entry.\n")
        assert render_text(plan_for(desired, actual)).endswith("; 0 unmanaged entries.\n")


def test_ldif_base64_encodes_non_ascii_and_uses_delete_then_add():
    desired = small_model()
    actual = as_directory(desired)
    p1 = replace(desired.people[0], surname="Ström", full_name="Åsa Ström")
    ldif = render_ldif(plan_for(replace(desired, people=(p1, *desired.people[1:])), actual))
    assert "changetype: modify\ndelete: sn\nsn:: " + base64.b64encode("Öberg".encode()).decode() \
        in ldif
    assert "add: sn\nsn:: " + base64.b64encode("Ström".encode()).decode() in ldif
    assert "replace:" not in ldif
    assert all(ord(ch) < 128 for ch in ldif.split("version: 1", 1)[1])


def test_ldif_lines_are_folded_at_76_characters():
    m = model(units=[unit("SE5565594230-U1", "X" * 200)])
    ldif = render_ldif(plan_for(m, []))
    assert max(len(line) for line in ldif.splitlines() if not line.startswith("#")) <= 76


def _directory_request(m, actual, language="sv"):
    """The change request of a plan against a directory, as hsa_reconcile's export makes it:
    names and care units from the desired and the read entries."""
    desired = desired_entries(m, BASE)
    plan = make_plan(desired, actual, BASE)
    with use_language(language):
        request = build_change_request(
            plan, meta={"provider_name": m.provider.name, "provider_id": m.provider.hsa_id},
            entries=(*desired.entries, *actual),
            described={e.hsa_id for e in desired.entries if e.kind == "person"})
        return request, render_request_markdown(request), render_request_csv(request)


def test_change_request_of_a_directory_plan_speaks_hsa_admin_and_lists_values():
    _request, md, data = _directory_request(small_model(), [])
    assert md.startswith("# Ändringsbegäran till HSA: Vårdbolaget Norr AB (SE5565594230-PROV)")
    assert "### Registrera ny vårdenhet: Mottagning Norr (SE5565594230-U1)" in md
    assert "| Arbetsplatskod | 1234567 |" in md
    assert "unitPrescriptionCode" not in md.replace("För IT", "").split("<sub>")[0]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Objekt", "Namn", "HSA-id"]
    assert ["Vårdenheter", "Mottagning Norr", "SE5565594230-U1", "", "Registrera ny vårdenhet",
            "Arbetsplatskod", "", "1234567", "", "", "unitPrescriptionCode"] in rows
    _, md_en, _ = _directory_request(small_model(), [], language="en")
    assert "### Register a new care unit: Mottagning Norr (SE5565594230-U1)" in md_en
    assert "| Workplace code | 1234567 |" in md_en


def test_change_request_of_a_directory_plan_names_entries_it_only_changes():
    """A modify names the person and their care unit from the entries (no model)."""
    m = small_model()
    actual = []
    for e in desired_entries(m, BASE).entries:
        attrs = {"objectClass": e.object_classes, **{k: v for k, v in e.attributes.items() if v}}
        if e.hsa_id == "SE5565594230-P1":
            attrs["mail"] = ["gammal@example.se"]
        actual.append(make_entry(e.dn, attrs))
    request, md, _ = _directory_request(m, actual)
    person = request["sections"][0]["items"][0]
    assert (person["name"], person["unit"]) == ("Åsa Öberg", "Mottagning Norr")
    assert "Ändra gammal@example.se till" in md and not request["leavers"]


@pytest.mark.parametrize("hostile", ["*)(objectClass=*", "a,b=c", "x\\00y", " lead", "#hash"])
def test_hostile_ids_and_names_stay_in_their_own_rdn(hostile):
    m = model(units=[unit("SE5565594230-U1", hostile)],
              people=[person(hostile, unit_id="SE5565594230-U1")],
              commissions=[commission("SE5565594230-C1", hostile, "SE5565594230-U1")])
    entries = desired_entries(m, BASE).entries
    for e in entries[1:]:
        rdns = parse_dn(e.dn)
        assert rdns[0][0][1] == hostile
        assert [r for r in rdns[-2:]] == [[("o", "Vårdbolaget Norr AB")], [("c", "SE")]]
