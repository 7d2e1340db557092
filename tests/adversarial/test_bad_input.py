"""Bad input never reaches the directory.

Every broken description below goes through the real ``hsa_reconcile`` module (apply
mode, against a directory that already holds the provider); a few also through the real
``playbooks/hsa.yml``. Each must fail with a message naming file, line and field, and the
directory must be byte-for-byte what it was (full dump with entryUUID/entryCSN).
"""

from __future__ import annotations

import unicodedata

import pytest
from adversarial_support import (
    ORG,
    UNIT_ID,
    hsa_entries,
    ldap_args,
    person_yaml,
    provider_files,
    run_module,
    run_playbook,
    write_tree,
)

BASE = provider_files(people=3)
UNITS = BASE["units/ett.yml"]


def _laughs() -> str:
    lines = ["lol: &a [l, l, l, l, l, l, l, l, l]"]
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"lol{i}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return UNITS + "\n".join(lines) + "\n"


def _cycle() -> str:
    second = (f"  - hsa_id: SE{ORG}-E2\n    name: Två\n    email: tva@example.se\n"
              f"    workplace_codes: [\"1234568\"]\n    parent: {UNIT_ID}\n")
    text = UNITS.replace("    email: ett", f"    parent: SE{ORG}-E2\n    email: ett", 1)
    return text.replace("people:\n", second + "people:\n", 1)


# name: (files changed, expected "file:line", expected field path or message part; the
# messages in Swedish, the default language)
CASES = {
    "malformed_yaml": (
        {"units/ett.yml": UNITS.replace("    titles: [Läkare]\n", "    titles: [Läkare\n", 1)},
        "units/ett.yml:11", "fel i YAML-syntaxen"),
    "list_for_a_string": (
        {"units/ett.yml": UNITS.replace('given_name: "Åsa"', "given_name: [Åsa, Bo]", 1)},
        "units/ett.yml:8", "people[0].given_name: är en lista"),
    "number_for_an_hsa_id": (
        {"units/ett.yml": UNITS.replace(f"hsa_id: SE{ORG}-P2", "hsa_id: 5565594230", 1)},
        "units/ett.yml:12", "people[1].hsa_id"),
    "null_for_a_required_value": (
        {"units/ett.yml": UNITS.replace('surname: "Öberg1"', "surname:", 1)},
        "units/ett.yml:9", "people[0].surname: är tomt"),
    "mapping_for_a_list": (
        {"units/ett.yml": UNITS.replace("titles: [Läkare]", "titles: {a: b}", 1)},
        "units/ett.yml:10", "people[0].titles"),
    "duplicate_key": (
        {"units/ett.yml": UNITS.replace('surname: "Öberg1"\n',
                                        'surname: "Öberg1"\n    surname: "Ek"\n', 1)},
        "units/ett.yml:10", "people[0].surname: finns två gånger"),
    "duplicate_hsa_id_across_files": (
        {"units/tva.yml": "people:\n" + person_yaml(2)},
        "units/tva.yml:2", "people[0].hsa_id"),
    "unknown_key": (
        {"units/ett.yml": UNITS.replace("    titles:", "    titels:", 1)},
        "units/ett.yml:10", "people[0].titels: är ingen känd nyckel"),
    "missing_reference": (
        {"units/ett.yml": UNITS.replace(f"unit: {UNIT_ID}", f"unit: SE{ORG}-E99", 1)},
        "units/ett.yml:11", "people[0].unit"),
    "self_referencing_sub_unit": (
        {"units/ett.yml": UNITS.replace("    email: ett", f"    parent: {UNIT_ID}\n    email: ett",
                                        1)},
        "units/ett.yml:4", "units[0].parent"),
    "circular_sub_units": ({"units/ett.yml": _cycle()}, "units/ett.yml:4", "slinga av underenheter"),
    "extremely_long_value": (
        {"units/ett.yml": UNITS.replace('given_name: "Åsa"', f'given_name: "{"A" * 1_000_000}"',
                                        1)},
        "units/ett.yml:8", "people[0].given_name"),
    "raw_control_character": (
        {"units/ett.yml": UNITS.replace('given_name: "Åsa"', 'given_name: "Å\x07sa"', 1)},
        "units/ett.yml:8", "U+0007"),
    "raw_nul_byte": (
        {"units/ett.yml": UNITS.replace('given_name: "Åsa"', "given_name: Å\x00sa", 1)},
        "units/ett.yml:8", "U+0000"),
    "escaped_nul_in_quotes": (
        {"units/ett.yml": UNITS.replace('given_name: "Åsa"', 'given_name: "Å\\0sa"', 1)},
        "units/ett.yml:8", "people[0].given_name"),
    "invalid_utf8": (
        {"units/ett.yml": UNITS.replace('given_name: "Åsa"', 'given_name: "@@sa"', 1)
         .encode().replace(b"@@", b"\xc5")},
        "units/ett.yml:8", "är inte giltig UTF-8"),
    "utf16_file": ({"units/ett.yml": UNITS.encode("utf-16")}, "units/ett.yml:1", "UTF-16"),
    "billion_laughs": ({"units/ett.yml": _laughs()}, "units/ett.yml:", "blir fler än"),
    "two_documents": ({"units/ett.yml": UNITS + "---\nunits: []\n"}, "units/ett.yml:",
                      "mer än ett YAML-dokument"),
    "filter_specials_in_an_hsa_id": (
        {"units/ett.yml": UNITS.replace(f"hsa_id: SE{ORG}-P2", f"hsa_id: SE{ORG}-P*)(cn=*", 1)},
        "units/ett.yml:12", "people[1].hsa_id"),
    "dn_specials_in_an_hsa_id": (
        {"units/ett.yml": UNITS.replace(f"hsa_id: SE{ORG}-P2",
                                        f'hsa_id: "SE{ORG}-P2,ou=x+cn=y"', 1)},
        "units/ett.yml:12", "people[1].hsa_id"),
}


@pytest.fixture(scope="module")
def seeded(hsa_sandbox, tmp_path_factory):
    """The shared sandbox holding the valid description's entries."""
    hsa_sandbox.reset()
    good = write_tree(tmp_path_factory.mktemp("good"), BASE)
    rc, result, out = run_module("hsa_reconcile", {"provider_path": str(good),
                                                   **ldap_args(hsa_sandbox)})
    assert rc == 0 and result["changed"], out
    assert len(hsa_entries(hsa_sandbox)) == 5  # provider, unit, three people
    return hsa_sandbox


# The relaxed (test-environment) HSA-id rule must refuse these too.
RELAXED_TOO = ("filter_specials_in_an_hsa_id", "dn_specials_in_an_hsa_id", "number_for_an_hsa_id",
               "duplicate_hsa_id_across_files")
PARAMS = [pytest.param(c, True, id=c) for c in sorted(CASES)] + [
    pytest.param(c, False, id=f"{c}-relaxed") for c in RELAXED_TOO]


@pytest.mark.parametrize(("case", "strict"), PARAMS)
def test_bad_input_is_refused_with_file_line_field_and_nothing_written(
        seeded, tmp_path, case, strict):
    changed, where, what = CASES[case]
    folder = write_tree(tmp_path / "provider", {**BASE, **changed})
    before = seeded.dump()
    rc, result, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                                   "strict_ids": strict, **ldap_args(seeded)})
    assert rc != 0 and result.get("failed"), out[:2000]
    assert result.get("changed") is False
    msg = result["msg"]
    assert "ingenting skrevs till HSA" in msg
    assert where in msg and what in msg, msg[:2000]
    assert "Traceback" not in out
    assert len(out) < 200_000  # a megabyte value is not echoed back
    assert seeded.dump() == before


def test_fifty_thousand_people_with_one_mistake_at_the_end(seeded, tmp_path):
    files = provider_files(people=0)
    people = "".join(person_yaml(i) for i in range(1, 50_001))
    bad = f"hsa_id: SE{ORG}-P49999\n"
    files["units/ett.yml"] += people.replace(bad, bad + "    mail: not-an-address\n", 1)
    folder = write_tree(tmp_path / "provider", files)
    line = files["units/ett.yml"].splitlines().index("    mail: not-an-address") + 1
    before = seeded.dump()
    rc, result, out = run_module("hsa_reconcile", {"provider_path": str(folder),
                                                   **ldap_args(seeded)}, timeout=90)
    assert rc != 0, out[:2000]
    assert f"units/ett.yml:{line} people[49998].mail" in result["msg"]
    assert "Beskrivningen av vårdgivaren har 1 fel; ingenting skrevs till HSA:" in result["msg"]
    assert seeded.dump() == before


@pytest.mark.parametrize("case", ["malformed_yaml", "invalid_utf8", "billion_laughs",
                                  "duplicate_hsa_id_across_files"])
def test_real_playbook_refuses_bad_input_and_leaves_the_directory_alone(seeded, tmp_path, case):
    changed, where, what = CASES[case]
    folder = write_tree(tmp_path / "provider", {**BASE, **changed})
    before = seeded.dump()
    r = run_playbook("hsa.yml", "-e", f"hsa_provider_path={folder}", box=seeded)
    assert r.returncode != 0, r.stdout[-3000:]
    assert where in r.stdout and what in r.stdout, r.stdout[-3000:]
    assert "Traceback" not in r.stdout + r.stderr
    assert seeded.dump() == before


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_nfd_names_do_not_cause_endless_modifications(hsa_sandbox, tmp_path):
    """Typed as NFD (macOS, some editors): apply, apply again -> nothing to do; and a
    directory value stored as NFD by another tool is equal to the NFC description."""
    hsa_sandbox.reset()
    files = provider_files(people=2, name=_nfd("Vårdbolaget Öst AB"),
                           unit_name=_nfd("Mottagning Skåne"))
    files["units/ett.yml"] = files["units/ett.yml"].replace('"Åsa"', f'"{_nfd("Åsa")}"')
    assert _nfd("Å") in files["units/ett.yml"] and "Å" not in files["units/ett.yml"]
    folder = write_tree(tmp_path / "nfd", files)
    r1 = run_playbook("hsa.yml", "-e", f"hsa_provider_path={folder}", box=hsa_sandbox)
    # The apply changed the directory (hsa.yml also writes the plan file: changed=2).
    assert r1.returncode == 0 and "changed=0" not in r1.stdout, r1.stdout[-3000:]
    assert hsa_entries(hsa_sandbox), r1.stdout[-3000:]
    dump = hsa_sandbox.dump()
    r2 = run_playbook("hsa.yml", "-e", f"hsa_provider_path={folder}", box=hsa_sandbox)
    assert r2.returncode == 0 and "changed=0" in r2.stdout, r2.stdout[-3000:]
    assert hsa_sandbox.dump() == dump
    # Another tool rewrites a name as NFD in the directory; the NFC description is equal.
    dn = next(dn for ident, dn in hsa_entries(hsa_sandbox) if ident == f"SE{ORG}-P1")
    hsa_sandbox.ldap_tool("ldapmodify", input=(
        f"dn: {dn}\nchangetype: modify\nreplace: givenName\ngivenName: {_nfd('Åsa')}\n"))
    nfc = write_tree(tmp_path / "nfc", provider_files(people=2, name="Vårdbolaget Öst AB",
                                                      unit_name="Mottagning Skåne"))
    rc, result, out = run_module("hsa_reconcile", {"provider_path": str(nfc),
                                                   **ldap_args(hsa_sandbox)}, check=True)
    assert rc == 0 and result["changed"] is False, result.get("plan_text", out)[:2000]


@pytest.mark.parametrize(("language", "head", "finding"), [
    ("sv", "Beskrivningen av vårdgivaren har fel; rätta dem först",
     "people[0].surname: finns två gånger på samma ställe"),
    ("en", "The provider description has errors; fix them first",
     "people[0].surname: appears twice in the same mapping"),
])
def test_siths_certificates_refuses_a_bad_description_in_the_users_language(
        tmp_path, language, head, finding):
    changed, where, _what = CASES["duplicate_key"]
    folder = write_tree(tmp_path / "provider", {**BASE, **changed})
    rc, result, out = run_module("siths_certificates", {
        "provider_path": str(folder), "trust_bundle": [str(tmp_path / "none.pem")],
        "read_ldap": False, "language": language})
    assert rc != 0 and result["msg"].startswith(head), out[:2000]
    (error,) = result["errors"]
    assert error.startswith(where) and finding in error, error
