"""The reconciler against a real slapd (the session sandbox, reset per test)."""

from __future__ import annotations

import base64

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
    apply_plan,
    read_directory_model,
    read_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    desired_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    make_plan,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (
    render_ldif,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
    PlanFileError,
    PlanOutput,
    reconcile,
)
from hsa_builders import commission, model, person, replace, small_model, unit

PROV_DN = "o=Vårdbolaget Norr AB,c=SE"
U1_DN = f"ou=Mottagning Norr,{PROV_DN}"


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def run(box, m, **kw):
    result = reconcile(m, box.settings(), **kw)
    assert not result["failed"], result.get("msg")
    return result


def dump(box, *attrs) -> str:
    """User attributes of every entry below the base (sorted blocks, values decoded)."""
    r = box.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", box.base_dn,
                      "(objectClass=*)", *(attrs or ("*",)))
    lines = []
    for line in r.stdout.splitlines():
        if ":: " in line:
            name, value = line.split(":: ", 1)
            line = f"{name}: {base64.b64decode(value).decode('utf-8')}"
        lines.append(line)
    blocks = []
    for block in "\n".join(lines).strip().split("\n\n"):
        if block:  # values of an attribute have no order in LDAP
            dn, *rest = block.splitlines()
            blocks.append("\n".join([dn, *sorted(rest)]))
    return "\n\n".join(sorted(blocks))


def values(box, dn, attr) -> list[str]:
    r = box.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn,
                      "(objectClass=*)", attr, check=False)
    out = []
    for line in r.stdout.splitlines():
        if line.lower().startswith(attr.lower() + ":: "):
            out.append(base64.b64decode(line.split(":: ", 1)[1]).decode("utf-8"))
        elif line.lower().startswith(attr.lower() + ": "):
            out.append(line.split(": ", 1)[1])
    return out


def ldif_modify(box, text: str):
    return box.ldap_tool("ldapmodify", input=text)


# --------------------------------------------------------------------------- load and rerun


def test_initial_load_then_second_run_changes_nothing(box):
    first = run(box, small_model())
    assert first["changed"] and first["counts"]["add"] == 8
    assert first["apply"]["applied"] == 8
    assert values(box, f"hsaIdentity=SE5565594230-P1,{U1_DN}", "hsaTitle") == ["Läkare"]
    assert values(box, f"hsaIdentity=SE5565594230-P1,{U1_DN}", "hsaSosTitleCodeSpeciality") \
        == ["101;1100;Allmänmedicin"]
    assert sorted(values(box, f"cn=Vård Norr,{U1_DN}", "hsaCommissionMember")) == [
        "SE5565594230-P1", "SE5565594230-P2"]
    second = run(box, small_model())
    assert second["changed"] is False and not any(second["counts"].values())


def test_read_directory_model_gives_the_model_back(box):
    run(box, small_model())
    actual = read_directory_model(box.connect(), box.base_dn)
    assert {p.hsa_id for p in actual.people} == {p.hsa_id for p in small_model().people}
    assert actual.person("SE5565594230-P3").unit == "SE5565594230-U2"
    assert actual.person("SE5565594230-P1").origin.line == 0


def test_check_mode_writes_nothing(box):
    before = dump(box, "*", "entryCSN")
    result = run(box, small_model(), check_mode=True)
    assert result["changed"] and result["counts"]["add"] == 8 and "apply" not in result
    assert dump(box, "*", "entryCSN") == before


# --------------------------------------------------------------------------- changes


def test_attribute_and_multi_value_changes(box):
    m = small_model()
    run(box, m)
    p1 = replace(m.people[0], surname="Ström", full_name="Åsa Ström",
                 titles=("Läkare", "Tandläkare"), group_prescriber_codes=("9300005",))
    c1 = replace(m.commissions[0], members=("SE5565594230-P1", "SE5565594230-P3"))
    m2 = replace(m, people=(p1, *m.people[1:]), commissions=(c1, m.commissions[1]))
    result = run(box, m2)
    assert result["counts"] == {"add": 0, "modify": 2, "modrdn": 0, "delete": 0}
    dn = f"hsaIdentity=SE5565594230-P1,{U1_DN}"
    assert values(box, dn, "sn") == ["Ström"] and values(box, dn, "fullName") == ["Åsa Ström"]
    assert sorted(values(box, dn, "hsaTitle")) == ["Läkare", "Tandläkare"]
    assert values(box, dn, "hsaGroupPrescriptionCode") == ["9300005"]
    assert sorted(values(box, f"cn=Vård Norr,{U1_DN}", "hsaCommissionMember")) == [
        "SE5565594230-P1", "SE5565594230-P3"]
    assert run(box, m2)["changed"] is False


def test_unmanaged_attributes_are_preserved(box):
    run(box, small_model())
    dn = f"hsaIdentity=SE5565594230-P1,{U1_DN}"
    ldif_modify(box, f"dn: {dn}\nchangetype: modify\nadd: telephoneNumber\n"
                     "telephoneNumber: +46 8 123 45\n-\nadd: description\ndescription: HR\n")
    m = small_model()
    m2 = replace(m, people=(replace(m.people[0], mail="ny@example.se"), *m.people[1:]))
    run(box, m2)
    assert values(box, dn, "telephoneNumber") == ["+46 8 123 45"]
    assert values(box, dn, "description") == ["HR"]
    assert values(box, dn, "mail") == ["ny@example.se"]


def test_rename_and_move_keep_the_entries(box):
    m = small_model()
    run(box, m)
    uuid_before = values(box, f"hsaIdentity=SE5565594230-P3,ou=Barnavård,{U1_DN}", "entryUUID")
    u1 = replace(m.units[0], name="Mottagning Nord")
    p2 = replace(m.people[1], unit="SE5565594230-U2")
    m2 = replace(m, units=(u1, m.units[1]), people=(m.people[0], p2, m.people[2]))
    result = run(box, m2)
    assert result["counts"]["modrdn"] == 2 and result["counts"]["add"] == 0
    nord = f"ou=Mottagning Nord,{PROV_DN}"
    assert values(box, f"hsaIdentity=SE5565594230-P3,ou=Barnavård,{nord}", "entryUUID") \
        == uuid_before
    assert values(box, f"hsaIdentity=SE5565594230-P2,ou=Barnavård,{nord}", "sn") == ["Ek"]
    assert values(box, nord, "ou") == ["Mottagning Nord"]
    assert values(box, U1_DN, "ou") == []
    assert run(box, m2)["changed"] is False


# --------------------------------------------------------------------------- leavers, pruning


def _without_p3(m):
    return replace(m, people=m.people[:2],
                   commissions=(m.commissions[0], replace(m.commissions[1], members=())))


def test_person_leaving_membership_removed_then_person_deleted(box):
    m = small_model()
    run(box, m)
    kept = run(box, _without_p3(m))
    assert [u["hsa_id"] for u in kept["unmanaged"]] == ["SE5565594230-P3"]
    c2 = f"cn=Vård Barn,ou=Barnavård,{U1_DN}"
    assert values(box, c2, "hsaCommissionMember") == []
    p3 = f"hsaIdentity=SE5565594230-P3,ou=Barnavård,{U1_DN}"
    assert values(box, p3, "sn") == ["Al"]  # not pruned: still there
    pruned = run(box, _without_p3(m), prune=True)
    assert [o["op"] for o in pruned["plan"]["operations"]] == ["delete"]
    assert values(box, p3, "sn") == []


def test_leaver_plan_orders_membership_removal_before_delete(box):
    m = small_model()
    run(box, m)
    result = run(box, _without_p3(m), prune=True)
    assert [(o["op"], o["hsa_id"]) for o in result["plan"]["operations"]] == [
        ("modify", "SE5565594230-C2"), ("delete", "SE5565594230-P3")]


def test_pruning_threshold_refuses_then_allows(box):
    m = small_model()
    run(box, m)
    before = dump(box)
    small = replace(m, units=m.units[:1], people=m.people[:1], commissions=())
    refused = reconcile(small, box.settings(), prune=True, max_deletes=2)
    assert refused["failed"] and "fler än max_deletes (2)" in refused["msg"]
    assert refused["msg"].startswith("Planen stoppades; inget skrevs till katalogen:")
    assert dump(box) == before
    allowed = run(box, small, prune=True, max_deletes=10)
    assert allowed["counts"]["delete"] == 5
    assert run(box, small, prune=True)["changed"] is False


def test_empty_description_never_deletes(box):
    run(box, small_model())
    before = dump(box)
    result = reconcile(model(), box.settings(), prune=True, max_deletes=1000)
    assert result["failed"] and "inga vårdenheter, personer eller medarbetaruppdrag" in result["msg"]
    assert dump(box) == before


# --------------------------------------------------------------------------- export


def _export_and_load(box, m, tmp_path):
    result = run(box, m, export_dir=str(tmp_path))
    ldif = (tmp_path / "plan.ldif").read_text(encoding="utf-8")
    assert result["export"]["plan.ldif"] == str(tmp_path / "plan.ldif")
    r = box.ldap_tool("ldapmodify", "-f", str(tmp_path / "plan.ldif"), check=False)
    assert r.returncode == 0, r.stderr
    return ldif


def test_export_gives_the_same_result_as_apply(box, tmp_path):
    m = small_model()
    m2 = replace(m, units=(replace(m.units[0], name="Nord"), m.units[1]),
                 people=(replace(m.people[0], titles=("Läkare", "Barnmorska")), *m.people[1:2]))
    m2 = replace(m2, commissions=(m.commissions[0], replace(m.commissions[1], members=())))
    run(box, m)
    run(box, m2, prune=True)
    applied = dump(box)

    box.reset()
    _export_and_load(box, m, tmp_path / "one")
    _export_and_load(box, m2, tmp_path / "two")  # prune off: P3 stays, so load it separately
    run(box, m2, prune=True, export_dir=str(tmp_path / "three"))
    box.ldap_tool("ldapmodify", "-f", str(tmp_path / "three" / "plan.ldif"))
    assert dump(box) == applied
    request = (tmp_path / "two" / "change-request.md").read_text(encoding="utf-8")
    assert request.startswith("# Ändringsbegäran till HSA: Vårdbolaget Norr AB"), request[:200]
    # names from the description and the directory, fields in HSA Admin's words, LDAP for IT
    assert "### Byt namn på eller flytta vårdenheten: Nord (SE5565594230-U1)" in request, request
    assert "| Legitimerad yrkesgrupp | Lägg till Barnmorska. |" in request, request
    assert "Vårdenhet: Nord" in request and "hsaTitle" not in request, request
    assert "## Slutar\n\n- **Cia Al (SE5565594230-P3)**, Barnavård:" in request, request
    assert "Åsa Öberg" not in request.split("## Slutar")[1]
    assert run(box, m2, prune=True)["changed"] is False


def test_export_writes_nothing_to_the_directory_and_is_idempotent(box, tmp_path):
    before = dump(box)
    first = run(box, small_model(), export_dir=str(tmp_path))
    assert first["changed"] and dump(box) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "change-request.csv", "change-request.html", "change-request.md", "plan.ldif"]
    assert run(box, small_model(), export_dir=str(tmp_path))["changed"] is False


def test_backup_file_holds_the_state_before_apply(box, tmp_path):
    m = small_model()
    run(box, m)
    backup = tmp_path / "before.ldif"
    run(box, replace(m, people=(replace(m.people[0], mail=None), *m.people[1:])),
        backup_file=str(backup))
    text = backup.read_text(encoding="utf-8")
    assert "mail: asa@example.se" in text and "version: 1" in text


# --------------------------------------------------------------------------- conflicts, faults


def test_a_value_changed_by_someone_else_is_a_conflict_not_overwritten(box):
    m = small_model()
    run(box, m)
    conn = box.connect()
    desired = desired_entries(replace(m, people=(replace(m.people[0], surname="Berg",
                                                         full_name="Åsa Berg"),
                                                 *m.people[1:])), box.base_dn)
    plan = make_plan(desired, read_entries(conn, box.base_dn), box.base_dn)
    dn = f"hsaIdentity=SE5565594230-P1,{U1_DN}"
    ldif_modify(box, f"dn: {dn}\nchangetype: modify\nreplace: sn\nsn: Lind\n")
    result, conn = apply_plan(conn, plan)
    assert result.conflict and result.failed.dn == dn
    assert "noSuchAttribute" in result.failed.message
    assert values(box, dn, "sn") == ["Lind"]


def test_a_concurrent_add_of_the_same_entry_is_a_conflict(box):
    conn = box.connect()
    plan = make_plan(desired_entries(small_model(), box.base_dn),
                     read_entries(conn, box.base_dn), box.base_dn)
    box.ldap_tool("ldapadd", input=render_ldif(replace(plan, operations=plan.operations[:1])))
    result, _ = apply_plan(conn, plan)
    assert result.conflict and result.failed.index == 0
    assert len(result.not_applied) == 7 and not result.applied


class _StopsServer:
    """A connection that stops the server just before its n-th write."""

    def __init__(self, conn, box, n):
        self._conn, self._box, self._left = conn, box, n

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def send(self, op):
        self._left -= 1
        if self._left == 0:
            self._box.stop()
        return self._conn.send(op)


def test_server_stopped_mid_apply_reports_then_rerun_converges(hsa_sandbox_factory):
    box = hsa_sandbox_factory("stopping")
    calls = {"n": 0}

    def connect_fn(settings):
        calls["n"] += 1
        conn = box.connect()
        return _StopsServer(conn, box, 4) if calls["n"] == 1 else conn

    result = reconcile(small_model(), box.settings(), connect_fn=connect_fn, retries=1)
    assert result["failed"] and "Kör igen så görs resten." in result["msg"]
    assert result["apply"]["applied"] == 3
    assert result["apply"]["failed"]["index"] == 3
    assert result["apply"]["not_applied"] == 4
    box.start()
    again = reconcile(small_model(), box.settings())
    assert not again["failed"] and again["counts"]["add"] == 5
    assert reconcile(small_model(), box.settings())["changed"] is False


# --------------------------------------------------------------------------- security


HOSTILE = ["*)(objectClass=*", "a,b=c", "x)(|(hsaIdentity=*", "\\2a", " spaced "]


def test_hostile_ids_and_names_are_stored_verbatim_and_never_widen_anything(box):
    units = [unit(f"SE5565594230-U{i}", name) for i, name in enumerate(HOSTILE)]
    people = [person(name, unit_id=f"SE5565594230-U{i}") for i, name in enumerate(HOSTILE)]
    commissions = [commission(f"SE5565594230-C{i}", name, f"SE5565594230-U{i}", members=(name,))
                   for i, name in enumerate(HOSTILE)]
    m = model(units=units, people=people, commissions=commissions)
    result = run(box, m)
    assert result["counts"]["add"] == 1 + 3 * len(HOSTILE)
    actual = read_directory_model(box.connect(), box.base_dn)
    assert sorted(p.hsa_id for p in actual.people) == sorted(HOSTILE)
    assert sorted(u.name for u in actual.units) == sorted(HOSTILE)
    assert sorted(c.name for c in actual.commissions) == sorted(HOSTILE)
    for c in actual.commissions:
        assert c.members == (actual.people[0].hsa_id,) or c.members[0] in HOSTILE
    assert run(box, m)["changed"] is False
    # Removing one hostile person touches exactly that entry.
    m2 = replace(m, people=m.people[1:], commissions=m.commissions[1:])
    pruned = run(box, m2, prune=True)
    assert [(o["op"], o["hsa_id"]) for o in pruned["plan"]["operations"]] == [
        ("delete", "SE5565594230-C0"), ("delete", HOSTILE[0])]
    assert len(read_directory_model(box.connect(), box.base_dn).people) == len(HOSTILE) - 1


def test_client_certificate_bind(box):
    result = reconcile(small_model(), box.settings(bind_dn=None, bind_password=None,
                                                   client_cert=box.client_cert,
                                                   client_key=box.client_key))
    assert not result["failed"], result.get("msg")
    assert result["apply"]["applied"] == 8


def test_plan_output_writes_the_plan_files_in_check_mode_and_keeps_the_result_small(box, tmp_path):
    text_file, md_file = tmp_path / "out" / "plan.txt", tmp_path / "out" / "plan.md"
    output = PlanOutput(text_file=str(text_file), markdown_file=str(md_file), lines=3,
                        operations=False)
    result = run(box, small_model(), check_mode=True, output=output)
    whole = text_file.read_text(encoding="utf-8").splitlines()
    assert len(whole) > 4 and whole[-1] == result["summary"]
    # The first three lines, then how many more and where, in the default language.
    assert result["plan_text"].splitlines() == [
        *whole[:3], f"… och {len(whole) - 3} rader till, se {text_file}"]
    assert "plan" not in result and result["counts"]["add"] == 8
    markdown = md_file.read_text(encoding="utf-8")
    assert "SE5565594230-P1" in markdown and "objectClass" not in markdown
    assert "hsaIdentity:" not in dump(box, "hsaIdentity")  # the files only, not the directory


def test_plan_output_lines_zero_leaves_the_text_out_and_defaults_keep_everything(box):
    lean = run(box, small_model(), check_mode=True, output=PlanOutput(lines=0, operations=False))
    assert "plan_text" not in lean and "plan" not in lean and lean["summary"]
    full = run(box, small_model(), check_mode=True)
    assert len(full["plan"]["operations"]) == 8 and full["plan_text"].endswith(
        full["summary"] + "\n")


def test_a_plan_file_that_cannot_be_written_stops_before_anything_is_applied(box, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(PlanFileError, match="a-file"):
        reconcile(small_model(), box.settings(),
                  output=PlanOutput(text_file=str(blocker / "plan.txt")))
    assert "hsaIdentity:" not in dump(box, "hsaIdentity")
