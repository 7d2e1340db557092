"""Hostile input, second round (issue 18): symbolic links, error floods, control and
invisible characters, and YAML words.

Each test here failed before the change it names: a link to /etc/passwd printed the
file's first line, 100,000 unknown members printed 100,000 errors, a unit name with a
line break reached the plan and the change request as extra lines, ``given_name: Null``
said only "is empty", and ``!vault`` got the hint "put it in quotes".
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from adversarial_support import (
    ORG,
    UNIT_ID,
    provider_files,
    run_module,
    run_playbook,
    write_tree,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.files import (
    DescriptionRefused,
    description_files,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    KEEP_PER_KIND,
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.presentation import (
    PRINT_LIMIT,
    terminal_view,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.text import (
    EXCERPT_MAX,
    excerpt,
    visible,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)

BASE = provider_files(people=2)
UNITS = BASE["units/ett.yml"]
SECRET = "root:x:0:0:TOPSECRET-h6:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin"


@pytest.fixture(autouse=True)
def _english():
    """The findings made in this process in English (the catalog's msgids); the playbooks
    and modules run here speak Swedish, the default."""
    with use_language("en"):
        yield


def _texts(result) -> str:
    return "\n".join(str(f) for f in result.findings) + "\n".join(
        repr(f.to_dict()) for f in result.findings)


@pytest.fixture
def secret_file(tmp_path) -> Path:
    """A file outside the description, as /etc/passwd would be."""
    path = tmp_path / "elsewhere" / "passwd"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


# ---------------------------------------------------------------- 1. symbolic links


def test_a_link_to_a_file_outside_is_refused_by_name_and_never_read(tmp_path, secret_file):
    folder = write_tree(tmp_path / "provider", BASE)
    os.symlink(secret_file, folder / "units" / "passwd.yml")
    result = load_provider(folder)
    assert result.model is None
    refused = [f for f in result.errors if f.file == "units/passwd.yml"]
    assert len(refused) == 1, _texts(result)
    assert "outside the description folder" in refused[0].message
    assert "TOPSECRET" not in _texts(result) and "root:x" not in _texts(result)
    assert str(secret_file) not in _texts(result)  # by name only: not even the target


def test_a_link_to_a_folder_outside_is_refused_by_name(tmp_path, secret_file):
    folder = write_tree(tmp_path / "provider", BASE)
    (secret_file.parent / "more.yml").write_text("units: [" + SECRET + "]\n", encoding="utf-8")
    os.symlink(secret_file.parent, folder / "shared")
    result = load_provider(folder)
    assert result.model is None
    finding = next(f for f in result.errors if f.file == "shared")
    assert "link to a folder outside" in finding.message
    assert "TOPSECRET" not in _texts(result)


def test_the_plan_cache_does_not_answer_for_a_refused_link(tmp_path, secret_file):
    folder = write_tree(tmp_path / "provider", BASE)
    assert description_files(str(folder))
    os.symlink(secret_file, folder / "units" / "passwd.yml")
    with pytest.raises(DescriptionRefused):
        description_files(str(folder))


def test_follow_symlinks_reads_a_link_into_an_allowed_root_only(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "tva.yml").write_text(
        "people:\n  - hsa_id: SE5565594230-P9\n    given_name: Bo\n    surname: Ek\n"
        f"    unit: {UNIT_ID}\n", encoding="utf-8")
    folder = write_tree(tmp_path / "provider", BASE)
    os.symlink(shared / "tva.yml", folder / "units" / "tva.yml")
    assert load_provider(folder).model is None  # default: refused
    not_listed = load_provider(folder, follow_symlinks=True, symlink_roots=[str(tmp_path / "x")])
    assert not_listed.model is None
    followed = load_provider(folder, follow_symlinks=True, symlink_roots=[str(shared)])
    assert followed.model is not None, _texts(followed)
    assert followed.model.person("SE5565594230-P9").surname == "Ek"


def test_a_fifo_named_yml_is_refused_without_blocking(tmp_path):
    folder = write_tree(tmp_path / "provider", BASE)
    os.mkfifo(folder / "units" / "pipe.yml")
    result = load_provider(folder)  # opening the FIFO would block for ever
    finding = next(f for f in result.errors if f.file == "units/pipe.yml")
    assert "not a regular file" in finding.message


def test_a_link_to_a_folder_inside_is_read_once_with_a_warning(tmp_path):
    folder = write_tree(tmp_path / "provider", BASE)
    os.symlink(folder / "units", folder / "again")
    result = load_provider(folder)
    assert result.model is not None, _texts(result)  # no "used twice" for every HSA-id
    assert any(f.file == "again" and f.severity == "warning" for f in result.findings)


def test_a_whole_file_of_the_wrong_shape_is_never_quoted(tmp_path):
    """Even inside the folder: a file that is not a mapping is named, not quoted."""
    folder = write_tree(tmp_path / "provider", {**BASE, "units/passwd.yml": SECRET})
    result = load_provider(folder)
    finding = next(f for f in result.errors if f.file == "units/passwd.yml")
    assert finding.value is None and "must be a mapping" in finding.message
    assert "TOPSECRET" not in _texts(result) and "root:x" not in _texts(result)


def test_validate_playbook_and_hsa_module_never_print_the_linked_file(tmp_path, secret_file):
    folder = write_tree(tmp_path / "provider", BASE)
    os.symlink(secret_file, folder / "units" / "passwd.yml")
    r = run_playbook("validate.yml", "-e", f"hsa_provider_path={folder}")
    assert r.returncode != 0
    assert "units/passwd.yml" in r.stdout and "utanför beskrivningens mapp" in r.stdout
    assert "TOPSECRET" not in r.stdout + r.stderr
    rc, result, out = run_module("hsa_reconcile", {
        "provider_path": str(folder), "uri": "ldap://127.0.0.1:9", "base_dn": "c=SE",
        "allow_plaintext": True, "cache": False})
    assert rc != 0 and "units/passwd.yml" in result["msg"], out[:2000]
    assert "TOPSECRET" not in out
    r = run_playbook("hsa.yml", "-e", f"hsa_provider_path={folder}",
                     "-e", "hsa_ldap_uri=ldap://127.0.0.1:9", "-e", "hsa_ldap_base_dn=c=SE",
                     "-e", "hsa_ldap_allow_plaintext=true", "-e", "hsa_cache=false")
    assert r.returncode != 0 and "units/passwd.yml" in r.stdout, r.stdout[-3000:]
    assert "TOPSECRET" not in r.stdout + r.stderr


# ---------------------------------------------------------------- 2. error flood


def _flood(tmp_path, count: int) -> Path:
    members = "".join(f"      - SE{ORG}-X{i}\n" for i in range(count))
    files = provider_files(people=1)
    files["commissions.yml"] = (
        f"commissions:\n  - hsa_id: SE{ORG}-M1\n    name: Vård och behandling\n"
        f"    unit: {UNIT_ID}\n    members:\n      - SE{ORG}-P1\n{members}")
    return write_tree(tmp_path / "flood", files)


def test_a_flood_of_errors_is_collected_up_to_a_bound_and_counted(tmp_path):
    result = load_provider(_flood(tmp_path, 100_000))
    assert result.count("error") == 100_000
    assert len(result.errors) == KEEP_PER_KIND
    ((kind, count),) = result.uncollected.items()
    assert count == 100_000 - KEEP_PER_KIND and kind[1] == "commissions[].members[]"
    with use_language("sv"):
        view = terminal_view(result, report_file="reports/x.txt")
    assert len(view["errors"]) == PRINT_LIMIT and view["warnings"] == []
    assert view["more"] == (f"… och {100_000 - PRINT_LIMIT} fel och 1 varning till. "
                            "Hela listan finns i reports/x.txt.")  # the Läkare warning


def test_the_validate_playbook_prints_fifty_findings_and_writes_the_rest(tmp_path):
    folder = _flood(tmp_path, 100_000)
    reports = tmp_path / "reports"
    r = run_playbook("validate.yml", "-e", f"hsa_provider_path={folder}",
                     "-e", f"hsa_report_dir={reports}")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert len(out) < 60_000, len(out)  # was ~16 MB
    assert out.count("FEL: commissions.yml:") == PRINT_LIMIT + 2  # + the failure, twice
    assert f"… och {100_000 - PRINT_LIMIT} fel och 1 varning till" in out
    report = (reports / "hsa-validation.txt").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("FEL: commissions.yml:") for line in report) == KEEP_PER_KIND
    assert f"ytterligare {100_000 - KEEP_PER_KIND} av samma slag" in report[-1]


def test_the_hsa_module_message_is_bounded_too(tmp_path):
    folder = _flood(tmp_path, 20_000)
    rc, result, out = run_module("hsa_reconcile", {
        "provider_path": str(folder), "uri": "ldap://127.0.0.1:9", "base_dn": "c=SE",
        "allow_plaintext": True, "cache": False})
    assert rc != 0 and "har 20000 fel; ingenting skrevs" in result["msg"], out[:2000]
    assert len(out) < 60_000, len(out)
    assert "… och 19950 fel och 1 varning till" in result["msg"]


# ---------------------------------------------------------------- 3. control characters

FORGED = "Norr\\ndn: ou=Evil,c=SE\\nchangetype: delete"


@pytest.mark.parametrize(("raw", "name"), [
    (f'"{FORGED}"', "LF"),
    ('"Norr\\r\\nX"', "CR"),
    ('"Norr\\tX"', "TAB"),
    ('"Norr\\x1b[31mX"', "ESC"),
    ('"Norr\\x85X"', "U+0085"),
    ('"Norr\\u2028X"', "LINE SEPARATOR"),
    ("|\n      Norr\n      dn: ou=Evil", "LF"),  # a block scalar needs no escapes at all
])
def test_control_characters_are_refused_in_every_text_value(tmp_path, raw, name):
    text = UNITS.replace('name: "Mottagning Ett"', f"name: {raw}", 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    finding = next(f for f in result.errors if f.path == "units[0].name")
    assert name in finding.message and finding.file == "units/ett.yml" and finding.line == 3
    shown = str(finding)
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown


@pytest.mark.parametrize("field", ["given_name", "surname"])
def test_control_characters_are_refused_in_people_and_members_too(tmp_path, field):
    text = UNITS.replace(f'{field}: "', f'{field}: "\\x07', 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    assert any(f.path == f"people[0].{field}" and "U+0007" in f.message for f in result.errors)


@pytest.mark.parametrize(("char", "kind"), [("\u202e", "bidirectional override"),
                                            ("\u2066", "bidirectional override"),
                                            ("\u200b", "zero-width"),
                                            ("\ufeff", "zero-width")])
def test_invisible_characters_in_names_are_warned_about(tmp_path, char, kind):
    text = UNITS.replace('given_name: "Åsa"', f'given_name: "Å{char}sa"', 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    assert result.model is not None  # a warning, not an error
    finding = next(f for f in result.warnings if f.path == "people[0].given_name")
    assert kind in finding.message and char not in str(finding)
    assert f"\\u{ord(char):04x}" in str(finding)


def test_visible_escapes_every_dangerous_character_and_keeps_the_rest():
    assert visible("Norr\ndn: x\r\t\x1b\x85\u2028\u202e\u200b") == (
        "Norr\\ndn: x\\r\\t\\x1b\\x85\\u2028\\u202e\\u200b")
    assert visible('Åsa Öberg, "x" <y> #;+=\\ \u00a0') == 'Åsa Öberg, "x" <y> #;+=\\ \u00a0'
    long = "A" * 10_000
    assert len(excerpt(long)) == EXCERPT_MAX + 1


def test_plan_and_change_request_show_directory_values_with_visible_escapes():
    """A value another tool stored with line breaks (the description can no longer hold
    one) reaches the ombud as one visible line."""
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.change_request import (
        build_change_request,
        render_request_csv,
        render_request_html,
        render_request_markdown,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
        desired_entries,
        make_entry,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
        make_plan,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_text import (
        render_text,
    )
    from hsa_builders import small_model

    base = "c=SE"
    desired = desired_entries(small_model(), base)
    actual = []
    for e in desired.entries:
        attrs = {"objectClass": e.object_classes, **{k: v for k, v in e.attributes.items() if v}}
        if "givenName" in attrs:
            attrs["givenName"] = ["Åsa\ndn: ou=Evil,c=SE\nchangetype: delete\u202e"]
        actual.append(make_entry(e.dn, attrs))
    plan = make_plan(desired, actual, base)
    assert plan.operations
    request = build_change_request(plan, meta={"provider_name": "Vård\nAB", "provider_id": "SE1"},
                                   entries=(*desired.entries, *actual))
    shown = "Åsa\\ndn: ou=Evil,c=SE\\nchangetype: delete\\u202e"
    texts = {"plan": render_text(plan), "csv": render_request_csv(request).decode("utf-8"),
             "html": render_request_html(request), "md": render_request_markdown(request)}
    for name, text in texts.items():
        assert "\ndn: ou=Evil" not in text and "\nchangetype" not in text, name
        assert "\u202e" not in text and "Vård\nAB" not in text, name
        # Markdown writes the backslash of the visible escape as \\ (a literal backslash)
        assert (shown.replace("\\", "\\\\") if name == "md" else shown) in text, name


# ---------------------------------------------------------------- 4. YAML words and tags


@pytest.mark.parametrize("word", ["Null", "NULL", "null", "~"])
def test_a_name_read_as_null_says_so_and_to_quote_it(tmp_path, word):
    text = UNITS.replace('given_name: "Åsa"', f"given_name: {word}", 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    finding = next(f for f in result.errors if f.path == "people[0].given_name")
    assert f"unquoted word {word}" in finding.message and "null" in finding.message
    assert f'"{word}"' in finding.hint


def test_an_optional_value_read_as_null_is_a_warning(tmp_path):
    text = UNITS.replace('given_name: "Åsa"\n', 'given_name: "Åsa"\n    mail: Null\n', 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    finding = next(f for f in result.warnings if f.path == "people[0].mail")
    assert "unquoted word Null" in finding.message


def test_a_vault_value_is_not_supported_and_not_quoted(tmp_path):
    vault = ("!vault |\n      $ANSIBLE_VAULT;1.1;AES256\n"
             "      62313365396662343061393464336163383764373764613633653634306231386433626436\n")
    text = UNITS.replace('given_name: "Åsa"', f"given_name: {vault}", 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    finding = next(f for f in result.errors if f.path == "people[0].given_name")
    assert "vault-encrypted values are not supported" in finding.message
    assert "quotes" not in finding.hint and finding.value is None
    assert "ANSIBLE_VAULT" not in str(finding) and "6231" not in str(finding)


def test_an_unknown_tag_is_named_not_quoted(tmp_path):
    text = UNITS.replace('given_name: "Åsa"', "given_name: !!binary aGVtbGlndA==", 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    finding = next(f for f in result.errors if f.path == "people[0].given_name")
    assert "YAML tag" in finding.message and "aGVtbGlndA" not in str(finding)


# ---------------------------------------------------------------- issue 17: two warnings


def test_a_commission_that_has_ended_is_warned_about(tmp_path):
    past = (date.today() - timedelta(days=1)).isoformat()
    files = {**BASE, "commissions.yml": (
        f"commissions:\n  - hsa_id: SE{ORG}-M1\n    name: VoB\n    unit: {UNIT_ID}\n"
        f"    members: [SE{ORG}-P1, SE{ORG}-P2]\n    valid_to: {past}\n")}
    result = load_provider(write_tree(tmp_path / "p", files))
    finding = next(f for f in result.warnings if f.path == "commissions[0].valid_to")
    assert "in the past" in finding.message and finding.line == 6
    future = {**files, "commissions.yml": files["commissions.yml"].replace(
        past, (date.today() + timedelta(days=1)).isoformat())}
    assert not [f for f in load_provider(write_tree(tmp_path / "q", future)).warnings
                if f.path == "commissions[0].valid_to"]


def test_a_lakare_without_forskrivarkod_is_warned_about(tmp_path):
    result = load_provider(write_tree(tmp_path / "p", BASE))  # Läkare, no prescriber_code
    finding = next(f for f in result.warnings if f.path == "people[0].prescriber_code")
    assert "Läkare" in finding.message and "förskrivarkod" in finding.message
    with_code = UNITS.replace("    titles: [Läkare]\n", '    titles: [Läkare]\n'
                              '    prescriber_code: "1234567"\n', 1)
    result = load_provider(write_tree(tmp_path / "q", {**BASE, "units/ett.yml": with_code}))
    assert [f.path for f in result.warnings if "förskrivarkod" in f.message] == [
        "people[1].prescriber_code"]


def test_validate_playbook_labels_errors_and_warnings_apart(tmp_path):
    text = UNITS.replace('given_name: "Åsa"', "given_name: Null", 1)
    folder = write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text})
    r = run_playbook("validate.yml", "-e", f"hsa_provider_path={folder}")
    out = r.stdout
    assert r.returncode != 0
    errors_at = out.index("Fel i beskrivningen")
    warnings_at = out.index("Varningar i beskrivningen")
    assert errors_at < warnings_at
    assert "FEL: units/ett.yml:8 people[0].given_name" in out[errors_at:warnings_at]
    assert "VARNING: units/ett.yml" in out[warnings_at:]
    assert "VARNING" not in out[errors_at:warnings_at]
    assert f"Beskrivningen {folder} har 1 fel" in out
    # Ansible's error context points at the user's file and line (issue 17), with a caret.
    assert f"Origin: {folder}/units/ett.yml:8:5" in out
    assert "given_name: Null" in out[out.index(f"Origin: {folder}/units/ett.yml:8:5"):]


def test_the_labels_and_the_closing_line_follow_the_language(tmp_path):
    folder = _flood(tmp_path, 60)
    for language, label, more in (("sv", "FEL: ", "… och 10 fel och 1 varning till."),
                                  ("en", "ERROR: ", "… and 10 more errors and 1 more warning.")):
        rc, result, out = run_module("provider_validate", {"path": str(folder),
                                                           "language": language})
        assert rc != 0, out[:2000]
        assert all(line.startswith(label) for line in result["lines"]["errors"])
        assert len(result["lines"]["errors"]) == PRINT_LIMIT
        assert result["lines"]["more"] == more
        assert result["counts"] == {"error": 60, "warning": 1}


def test_a_key_with_a_line_break_is_shown_escaped_everywhere(tmp_path):
    text = UNITS.replace('    given_name: "Åsa"', '    "given\\nname\\u202e": "Åsa"', 1)
    result = load_provider(write_tree(tmp_path / "p", {**BASE, "units/ett.yml": text}))
    finding = next(f for f in result.errors if "is not a known key" in f.message)
    for shown in (str(finding), *map(str, finding.to_dict().values())):
        assert "\n" not in shown and "\u202e" not in shown, shown
    assert "given\\nname\\u202e" in finding.to_dict()["path"]
