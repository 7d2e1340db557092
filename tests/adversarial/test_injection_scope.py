"""LDAP filter and DN specials are data, never syntax; nothing outside what the
description owns is touched in any mode.

Values with ``* ( ) \\ , = + < > # ; "`` and leading/trailing spaces go into names (which
become RDNs: ``o=``, ``ou=``, ``cn=``) and free-text attributes through the real
``hsa_reconcile`` module. HSA-ids with specials are refused by the validator (see
test_bad_input); the reconciler is also tested with such ids directly (a model built in
code) as a second line of defence.

Decoys: an entry outside the base DN that carries the same HSA-ids as the description,
another provider's managed-looking subtree under the base DN (with an ``hsaIdentity``
of ``*`` and one shaped like a filter injection), and an entry without ``hsaIdentity``
below our own unit. They must be byte-for-byte unchanged after check, export, apply,
apply again, prune off and prune on.
"""

from __future__ import annotations

import base64
import json

import pytest
from adversarial_support import (
    ORG,
    PROVIDER_ID,
    UNIT_ID,
    hsa_entries,
    ldap_args,
    ldif_add,
    provider_files,
    run_module,
    write_tree,
)

SPECIALS = ' #a*(b)\\c,d=e+f<g>h;i"j '
TENANT = "ou=Tenant,c=SE"
OTHER = f"o=Other Provider,{TENANT}"

DECOYS = f"""dn: {TENANT}
objectClass: organizationalUnit
ou: Tenant

dn: o=Decoy,c=SE
objectClass: organization
objectClass: hsaHealthCareProvider
o: Decoy
hsaIdentity: {PROVIDER_ID}

dn: hsaIdentity=SE{ORG}-P1,o=Decoy,c=SE
objectClass: inetOrgPerson
objectClass: hsaPersonExtension
hsaIdentity: SE{ORG}-P1
cn: Outside the base
sn: Outside
givenName: Outside

dn: {OTHER}
objectClass: organization
objectClass: hsaHealthCareProvider
o: Other Provider
hsaIdentity: SE{ORG}-VG9

dn: hsaIdentity=*,{OTHER}
objectClass: inetOrgPerson
objectClass: hsaPersonExtension
hsaIdentity: *
cn: Star
sn: Star

dn: hsaIdentity=SE{ORG}-P1)(hsaIdentity=*,{OTHER}
objectClass: inetOrgPerson
objectClass: hsaPersonExtension
hsaIdentity: SE{ORG}-P1)(hsaIdentity=*
cn: Injection
sn: Injection

dn: ou=Unit\\20\\23a*(b)\\5cc\\2cd\\3de\\2bf\\3cg\\3eh\\3bi\\22j\\20,{OTHER}
objectClass: organizationalUnit
objectClass: hsaHealthCareUnit
ou: Unit #a*(b)\\c,d=e+f<g>h;i"j
hsaIdentity: SE{ORG}-E9
"""


def _subtree(box, base: str, scope: str = "sub") -> str:
    r = box.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-s", scope, "-b", base,
                      "(objectClass=*)", "*", "+", check=False)
    assert r.returncode == 0, r.stderr
    return "\n\n".join(sorted(b for b in r.stdout.strip().split("\n\n") if b))


def _decoys(box, own_foreign_dn: str | None = None) -> dict[str, str]:
    out = {"outside": _subtree(box, "o=Decoy,c=SE"), "other": _subtree(box, OTHER)}
    if own_foreign_dn:
        out["printer"] = _subtree(box, own_foreign_dn, "base")
    return out


def _values(box, dn: str) -> dict[str, list[str]]:
    return box.values(dn)


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    ldif_add(hsa_sandbox, DECOYS)
    return hsa_sandbox


def _description(tmp_path):
    files = provider_files(people=2, name="Prov" + SPECIALS, unit_name="Unit" + SPECIALS)
    text = files["units/ett.yml"].replace('"Åsa"', json.dumps(SPECIALS, ensure_ascii=False), 1)
    text = text.replace('"Öberg1"', json.dumps("*"), 1)
    text += (f"commissions:\n  - hsa_id: SE{ORG}-M1\n"
             f"    name: {json.dumps('Comm' + SPECIALS)}\n    unit: {UNIT_ID}\n"
             f"    purpose: Vård och behandling\n    rights: [\"Läsa;alla;SJF\"]\n"
             f"    members: [SE{ORG}-P1, SE{ORG}-P2]\n")
    files["units/ett.yml"] = text
    return write_tree(tmp_path / "provider", files)


def test_specials_are_stored_verbatim_and_decoys_untouched_in_every_mode(box, tmp_path):
    folder = _description(tmp_path)
    args = {"provider_path": str(folder), **ldap_args(box, base_dn=TENANT)}
    decoys = _decoys(box)
    mine_before = hsa_entries(box, TENANT)

    # check mode: a plan, nothing written
    rc, res, out = run_module("hsa_reconcile", args, check=True, diff=True)
    assert rc == 0 and res["changed"], out[-2000:]
    assert res["counts"]["add"] == 5 and res["counts"]["delete"] == 0
    assert hsa_entries(box, TENANT) == mine_before and _decoys(box) == decoys

    # export: files for the HSA agent; values verbatim (base64 in LDIF where needed)
    export = tmp_path / "export"
    rc, res, out = run_module("hsa_reconcile", {**args, "export_dir": str(export)})
    assert rc == 0, out[-2000:]
    ldif = (export / "plan.ldif").read_text(encoding="utf-8")
    decoded = [base64.b64decode(line.split(":: ", 1)[1]).decode()
               for line in ldif.replace("\n ", "").splitlines() if ":: " in line]
    assert f"givenName:{SPECIALS}" not in ldif  # a raw leading space would be lost
    assert SPECIALS in decoded and "Prov" + SPECIALS in decoded
    assert hsa_entries(box, TENANT) == mine_before and _decoys(box) == decoys

    # apply: every value lands verbatim, each special-named DN is exactly one entry
    rc, res, out = run_module("hsa_reconcile", args)
    assert rc == 0 and res["apply"]["applied"] == 5, out[-3000:]
    mine = {i: dn for i, dn in hsa_entries(box, TENANT)}
    assert set(mine) == {PROVIDER_ID, UNIT_ID, f"SE{ORG}-P1", f"SE{ORG}-P2", f"SE{ORG}-M1",
                         f"SE{ORG}-VG9", f"SE{ORG}-E9", "*", f"SE{ORG}-P1)(hsaIdentity=*"}
    assert _values(box, mine[PROVIDER_ID])["o"] == ["Prov" + SPECIALS]
    assert _values(box, mine[UNIT_ID])["ou"] == ["Unit" + SPECIALS]
    p1 = _values(box, mine[f"SE{ORG}-P1"])
    assert p1["givenName"] == [SPECIALS] and p1["sn"] == ["*"]
    assert _values(box, mine[f"SE{ORG}-M1"])["cn"] == ["Comm" + SPECIALS]
    assert mine[f"SE{ORG}-P1"].endswith(mine[UNIT_ID])  # under our unit, not the decoy
    assert _decoys(box) == decoys

    # apply again: nothing to do (no endless modifications from escaping)
    rc, res, out = run_module("hsa_reconcile", args)
    assert rc == 0 and res["changed"] is False, res.get("plan_text", out)[-2000:]

    # someone adds a printer (no hsaIdentity) and a person we do not list under our unit
    printer = f"cn=Printer,{mine[UNIT_ID]}"
    stray = f"hsaIdentity=SE{ORG}-P77,{mine[UNIT_ID]}"
    ldif_add(box, f"dn: {printer}\nobjectClass: device\ncn: Printer\n\n"
                  f"dn: {stray}\nobjectClass: inetOrgPerson\nobjectClass: hsaPersonExtension\n"
                  f"hsaIdentity: SE{ORG}-P77\ncn: Stray\nsn: Stray\n")
    decoys = _decoys(box, printer)

    # prune off: the stray person is reported, nothing is deleted
    rc, res, out = run_module("hsa_reconcile", args)
    assert rc == 0 and res["changed"] is False, out[-2000:]
    actions = {u["hsa_id"]: u["action"] for u in res["unmanaged"]}
    assert actions[f"SE{ORG}-P77"] == "kept", actions
    assert f"SE{ORG}-P77" in dict(hsa_entries(box, TENANT)) and _decoys(box, printer) == decoys

    # prune on (within the threshold): only the stray person inside our provider goes
    rc, res, out = run_module("hsa_reconcile", {**args, "prune": True, "max_deletes": 10})
    assert rc == 0 and res["counts"]["delete"] == 1, res.get("plan_text", out)[-2000:]
    left = dict(hsa_entries(box, TENANT))
    assert f"SE{ORG}-P77" not in left
    assert {"*", f"SE{ORG}-VG9", f"SE{ORG}-E9", f"SE{ORG}-P1)(hsaIdentity=*"} <= set(left)
    assert _decoys(box, printer) == decoys


IDS_WITH_SPECIALS = [
    f"SE{ORG}-P*", f"SE{ORG}-P2)(hsaIdentity=*", f"SE{ORG}-P1,ou=Evil", f"SE{ORG}-P+cn=x",
    f"#SE{ORG}-P<1>", f'SE{ORG}-P\\"2;', f" SE{ORG}-Pspace ", f"SE{ORG}-P=eq",
]


def test_hsa_ids_with_specials_reach_ldap_verbatim_and_address_only_their_entry(box):
    """Defence in depth: the validator refuses such ids, but a model built in code must
    still not widen a search or address another entry."""
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
        reconcile,
    )
    from hsa_builders import model, person, provider, unit

    uid = f"SE{ORG}-E1"
    m = model(prov=provider(name="Prov AB", hsa_id=PROVIDER_ID),
              units=[unit(uid, "Mottagning")],
              people=[person(i, "Given", f"Sur{n}", uid) for n, i in enumerate(IDS_WITH_SPECIALS)])
    settings = box.settings(base_dn=TENANT)
    decoys = _decoys(box)
    first = reconcile(m, settings)
    assert not first["failed"], first.get("msg")
    assert first["apply"]["applied"] == 2 + len(IDS_WITH_SPECIALS)
    found = {i: dn for i, dn in hsa_entries(box, TENANT)}
    for ident in IDS_WITH_SPECIALS:
        assert ident.strip() in {k.strip() for k in found}, (ident, sorted(found))
    # exactly one entry per id: search each one with an escaped filter
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        escape_filter_value,
    )

    with box.connect() as conn:
        for ident in IDS_WITH_SPECIALS:
            hits = list(conn.search(TENANT, f"(hsaIdentity={escape_filter_value(ident)})",
                                    ["hsaIdentity"]))
            assert len(hits) == 1, (ident, [dn for dn, _ in hits])
    assert _decoys(box) == decoys
    again = reconcile(m, settings)
    assert not again["failed"] and again["changed"] is False, again["plan_text"]
    # prune with a model that drops one of them deletes exactly that one
    fewer = model(prov=provider(name="Prov AB", hsa_id=PROVIDER_ID),
                  units=[unit(uid, "Mottagning")],
                  people=[person(i, "Given", f"Sur{n}", uid)
                          for n, i in enumerate(IDS_WITH_SPECIALS) if i != f"SE{ORG}-P*"])
    pruned = reconcile(fewer, settings, prune=True)
    assert not pruned["failed"], pruned.get("msg")
    assert [o["hsa_id"] for o in pruned["plan"]["operations"]] == [f"SE{ORG}-P*"]
    left = {i for i, _ in hsa_entries(box, TENANT)}
    assert f"SE{ORG}-P*" not in left and "*" in left and len(left) == 2 + 7 + 4
    assert _decoys(box) == decoys


def test_an_entry_of_another_provider_is_never_taken_over(box, tmp_path):
    """Found by this suite: matching by hsaIdentity anywhere below the base DN moved
    another provider's person into ours and rewrote it. Now the plan is refused."""
    other_person = f"hsaIdentity=SE{ORG}-P2,{OTHER}"
    ldif_add(box, f"dn: {other_person}\nobjectClass: inetOrgPerson\n"
                  f"objectClass: hsaPersonExtension\nhsaIdentity: SE{ORG}-P2\ncn: Theirs\n"
                  "sn: Theirs\n")
    decoys = _decoys(box)
    folder = write_tree(tmp_path / "provider", provider_files(people=2))
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                                **ldap_args(box, base_dn=TENANT)})
    assert _decoys(box) == decoys, res.get("plan_text", out)[-2000:]
    assert rc != 0 and "under en annan vårdgivare" in res.get("msg", ""), out[-2000:]
    assert f"SE{ORG}-P2" in res["msg"] and "inget skrevs till katalogen" in res["msg"]
