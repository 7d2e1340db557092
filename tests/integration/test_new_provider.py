"""The user's own provider repository, made by webcert_siths.onboarding.new_provider.

Everything runs as a user would: the toolkit built and installed as a collection, the
commands run in folders outside this checkout, without its ansible.cfg.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from installed_collection import BIN, installed_collection, run, user_env  # noqa: F401

COLLECTION = ("ansible_collections", "webcert_siths", "onboarding")
SCAFFOLD_FILES = [
    "ansible.cfg", "requirements.yml", ".gitignore", "README.md",
    "inventories/clinics/hosts.yml", "inventories/clinics/group_vars/all/hsa.yml",
    "inventories/clinics/group_vars/all/vault.yml.example",
    "inventories/clinics/group_vars/workstations/connection.yml",
    "provider/provider.yml", "provider/units/e001.yml",
    ".gitlab-ci.yml", ".github/workflows/hsa.yml",
    "ci/common.sh", "ci/vault-pass.sh", "ci/setup.sh", "ci/hsa-plan.sh", "ci/hsa-apply.sh",
    "ci/gitlab-comment.sh",
]


def playbook(*args, cwd: Path, check: bool = True, **env) -> subprocess.CompletedProcess:
    return run([BIN / "ansible-playbook", *args], cwd=cwd,
               env=user_env(cwd / ".ansible-home", **env), check=check)


@pytest.fixture(scope="module")
def repo(installed_collection, tmp_path_factory) -> Path:  # noqa: F811
    """A provider repository made from outside the toolkit, with the toolkit installed in
    its collections/ folder (the README's first command, from the release tarball)."""
    outside = tmp_path_factory.mktemp("user")
    dest = outside / "sjovik-hsa"
    env = user_env(outside / ".ansible-home",
                   ANSIBLE_COLLECTIONS_PATH=str(installed_collection.collections))
    r = run([BIN / "ansible-playbook", "webcert_siths.onboarding.new_provider",
             "-e", f"dest={dest}", "-e", "provider_name='Sjöviks Vård AB'",
             "-e", "org_no=559912-3451", "-e", "inventory_name=clinics",
             "-e", "requester='Anna IT'", "-e", "contact=it@sjovik.example.se"],
            cwd=outside, env=env)
    assert "Skrivna: ansible.cfg" in r.stdout  # Swedish by default
    installed_collection.install_into(dest / "collections")
    return dest


def test_scaffold_writes_every_file(repo):
    missing = [f for f in SCAFFOLD_FILES if not (repo / f).is_file()]
    assert missing == []
    assert (repo / "ci" / "hsa-plan.sh").stat().st_mode & 0o111
    provider = yaml.safe_load((repo / "provider" / "provider.yml").read_text(encoding="utf-8"))
    assert provider["provider"] == {
        "hsa_id": "SE5599123451-VG01", "name": "Sjöviks Vård AB", "org_no": "559912-3451",
        "onboarding": {"registration_sent": None, "agreement_signed": None,
                       "technical_order": None}}
    hsa_vars = yaml.safe_load(
        (repo / "inventories/clinics/group_vars/all/hsa.yml").read_text(encoding="utf-8"))
    assert hsa_vars["hsa_baseline"] == "hsa-confirmed"
    assert hsa_vars["webcert_language"] == "sv"
    assert hsa_vars["hsa_change_contact"] == "it@sjovik.example.se"


def test_requirements_pin_the_installed_version(repo):
    import json

    manifest = json.loads((repo.joinpath("collections", *COLLECTION, "MANIFEST.json"))
                          .read_text(encoding="utf-8"))
    version = manifest["collection_info"]["version"]
    reqs = yaml.safe_load((repo / "requirements.yml").read_text(encoding="utf-8"))
    assert reqs["collections"] == [{"name": "webcert_siths.onboarding",
                                    "version": f"=={version}"}]


def test_starter_description_passes_validation_in_the_repo(repo):
    # The README's command 2, with the repository's own ansible.cfg and inventory.
    r = playbook("webcert_siths.onboarding.validate", cwd=repo)
    assert ("provider: beskrivningen är giltig (vårdenheter: 1, personer: 0, "
            "medarbetaruppdrag: 1") in r.stdout


def test_readme_names_the_four_commands(repo):
    text = (repo / "README.md").read_text(encoding="utf-8")
    assert text.startswith("# Sjöviks Vård AB: Webcert med SITHS-kort\n")
    unit = (repo / "provider/units/e001.yml").read_text(encoding="utf-8")
    assert unit.startswith("# Sjöviks Vård AB Vårdcentral: en vårdenhet, dess "
                           "medarbetaruppdrag och dess personer.\n")
    block = text.split("## De fyra kommandona", 1)[1].split("```", 2)[1]
    commands = [ln for ln in block.splitlines() if ln and not ln.startswith(("#", "sh"))]
    assert commands == [
        "ansible-galaxy collection install -r requirements.yml -p collections",
        "pip install -r collections/ansible_collections/webcert_siths/onboarding/requirements.txt",
        "ansible-playbook webcert_siths.onboarding.validate",
        "ansible-playbook webcert_siths.onboarding.hsa --check --diff",
        "ansible-playbook webcert_siths.onboarding.hsa -e hsa_export_dir=reports/change-request",
    ]


def test_running_again_keeps_the_users_files(repo, installed_collection, tmp_path):  # noqa: F811
    unit = repo / "provider" / "units" / "e001.yml"
    edited = unit.read_text(encoding="utf-8") + "# edited by the user\n"
    unit.write_text(edited, encoding="utf-8")
    (repo / "ci" / "setup.sh").unlink()
    r = run([BIN / "ansible-playbook", "webcert_siths.onboarding.new_provider",
             "-e", f"dest={repo}", "-e", "inventory_name=clinics"], cwd=tmp_path,
            env=user_env(tmp_path / ".ansible-home",
                         ANSIBLE_COLLECTIONS_PATH=str(installed_collection.collections)))
    assert unit.read_text(encoding="utf-8") == edited
    assert (repo / "ci" / "setup.sh").is_file()
    written = re.search(r'"Skrivna: ([^"]*)"', r.stdout).group(1)
    assert written == "ci/setup.sh"


def test_no_description_no_default_provider(installed_collection, tmp_path):  # noqa: F811
    # Outside any provider repository, with only the collection: the HSA playbooks stop
    # and name the variable; they never pick up a demo or example provider.
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed_collection.collections)}
    for name in ("validate", "hsa", "readiness"):
        r = playbook(f"webcert_siths.onboarding.{name}", "--check", cwd=tmp_path, check=False,
                     **env)
        out = r.stdout + r.stderr
        assert r.returncode != 0, name
        assert "Beskrivningen av vårdgivaren är inte angiven (hsa_provider_path)" in out, (
            name, out[-2000:])
        assert "Demo Vård" not in out and "Sjöviks" not in out


def test_bad_settings_stop_before_anything_is_written(installed_collection, tmp_path):  # noqa: F811
    r = playbook("webcert_siths.onboarding.new_provider", "-e", f"dest={tmp_path / 'x'}",
                 "-e", "org_no=12345", cwd=tmp_path, check=False,
                 ANSIBLE_COLLECTIONS_PATH=str(installed_collection.collections))
    assert r.returncode != 0
    assert "org_no (organisationsnumret) ska ha 10 siffror" in r.stdout + r.stderr
    assert not (tmp_path / "x").exists()


def test_scaffold_in_english_on_request(installed_collection, tmp_path):  # noqa: F811
    dest = tmp_path / "repo"
    r = playbook("webcert_siths.onboarding.new_provider", "-e", f"dest={dest}",
                 "-e", "webcert_language=en", cwd=tmp_path,
                 ANSIBLE_COLLECTIONS_PATH=str(installed_collection.collections))
    assert "Written: ansible.cfg" in r.stdout and "Kept as they were: none" in r.stdout
    assert "(the name, organisationsnummer and HSA-ids are placeholders)" in r.stdout
    readme = (dest / "README.md").read_text(encoding="utf-8")
    assert "## The four commands" in readme and "De fyra kommandona" not in readme
    unit = (dest / "provider/units/e001.yml").read_text(encoding="utf-8")
    assert "One file per unit: copy this file for the next one." in unit
    hsa_vars = yaml.safe_load((dest / "inventories/production/group_vars/all/hsa.yml")
                              .read_text(encoding="utf-8"))
    assert hsa_vars["webcert_language"] == "en"
    assert "No git tag $baseline yet" in (dest / "ci/hsa-apply.sh").read_text(encoding="utf-8")
    r = playbook("webcert_siths.onboarding.new_provider", "-e", f"dest={tmp_path / 'x'}",
                 "-e", "org_no=12345", "-e", "webcert_language=en", cwd=tmp_path, check=False,
                 ANSIBLE_COLLECTIONS_PATH=str(installed_collection.collections))
    assert r.returncode != 0
    assert "org_no must have 10 digits, NNNNNN-NNNN (got \\\"12345\\\")" in r.stdout


# ------------------------------------------------------------------------ CI files

# Programs a CI job may call besides the repository's own ci/*.sh scripts. gh and curl
# are provided by the CI runner (GitHub's ubuntu-latest has gh; curl is in python:3.11).
CI_TOOLS = {"ansible-playbook", "ansible-galaxy", "git", "gh", "curl", "cat", "python3", "sh"}
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "!", "[", "]", "set", ".", "echo",
               "mkdir", "printf", "export", "exit", "command", "id", "$sudo", "true"}


def simple_commands(script: str) -> list[list[str]]:
    """Each simple command of a POSIX shell script as a list of words (quotes removed,
    redirections and leading variable assignments and if/then/else dropped)."""
    commands = []
    for line in re.sub(r"\\\n", " ", script).splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        redirect = False
        for token in [*lexer, ";"]:
            if token in (";", "&&", "||", "|", ";;", "&"):
                while words and (words[0] in {"if", "then", "else", "elif", "fi", "!"}
                                 or re.match(r"^[A-Za-z_]+=", words[0])):
                    words.pop(0)
                if words:
                    commands.append(words)
                words = []
            elif set(token) <= set("<>&"):
                redirect = True
            elif redirect:
                redirect = False  # the redirection's target
            else:
                words.append(token)
    return commands


def documented_variables(playbook_file: Path) -> set[str]:
    head = playbook_file.read_text(encoding="utf-8").split("\n- name:", 1)[0]
    return set(re.findall(r"^#\s+([a-z_]+)", head, re.MULTILINE))


def check_command(words: list[str], repo: Path, collection: Path, seen: set) -> None:
    program = words[0]
    if program == "sh" and len(words) > 1:
        script = repo / words[1]
        assert script.is_file(), f"{words}: {words[1]} is not in the repository"
        check_script(script, repo, collection, seen)
        return
    if program.startswith("ci/") or program.startswith("./ci/"):
        check_script(repo / program.lstrip("./"), repo, collection, seen)
        return
    if program in SHELL_WORDS or program.startswith("$"):
        return
    assert program in CI_TOOLS, f"{words}: {program} is not a command the CI job has"
    if program == "ansible-playbook":
        target = next(w for w in words[1:] if not w.startswith("-") and "=" not in w)
        assert target.startswith("webcert_siths.onboarding."), words
        file = collection / "playbooks" / f"{target.rsplit('.', 1)[1]}.yml"
        assert file.is_file(), f"{words}: the collection has no playbook {target}"
        known = documented_variables(file)
        for i, w in enumerate(words):
            if words[i - 1] == "-e" and "=" in w:
                name = w.split("=", 1)[0]
                assert name in known, f"{words}: {target} does not document {name}"
        seen.add(target)
    if program == "ansible-galaxy":
        assert words[1:3] == ["collection", "install"], words


def check_script(script: Path, repo: Path, collection: Path, seen: set) -> None:
    assert script.is_file(), script
    subprocess.run(["sh", "-n", str(script)], check=True)
    for words in simple_commands(script.read_text(encoding="utf-8")):
        if words[0] == "." and len(words) > 1:
            assert (repo / words[1]).is_file(), words
            check_script(repo / words[1], repo, collection, seen)
            continue
        check_command(words, repo, collection, seen)


def test_ci_files_are_valid_yaml_and_call_only_commands_that_exist(repo):
    collection = repo.joinpath("collections", *COLLECTION)
    gitlab = yaml.safe_load((repo / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    github = yaml.safe_load((repo / ".github/workflows/hsa.yml").read_text(encoding="utf-8"))

    seen: set[str] = set()
    lines = list(gitlab["default"]["before_script"])
    for job in ("hsa-plan", "hsa-apply"):
        assert gitlab[job]["stage"] in gitlab["stages"]
        lines += gitlab[job]["script"]
    assert gitlab["hsa-plan"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert gitlab["hsa-apply"]["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    for line in lines:
        for words in simple_commands(line):
            check_command(words, repo, collection, seen)

    assert set(github["on"]) == {"pull_request", "push"}
    for name, job in github["jobs"].items():
        for step in job["steps"]:
            if "uses" in step:
                assert step["uses"].split("@")[0] in {
                    "actions/checkout", "actions/setup-python", "actions/upload-artifact"}, step
            for words in simple_commands(step.get("run", "")):
                check_command(words, repo, collection, seen)
        assert name in ("plan", "apply")
    assert seen == {"webcert_siths.onboarding.validate", "webcert_siths.onboarding.hsa"}
    # Secrets only from the CI's secret store.
    assert all(v.startswith("${{ secrets.") for v in github["env"].values())
    text = (repo / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "PASSWORD:" not in text


def test_simple_commands_sees_through_shell_syntax():
    script = 'if [ -n "$X" ]; then\n  ansible-playbook a.b.c --check -e "v=$y"\nfi\n'
    assert simple_commands(script) == [["[", "-n", "$X", "]"],
                                       ["ansible-playbook", "a.b.c", "--check", "-e", "v=$y"]]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed")
def test_scaffold_in_check_mode_writes_nothing(installed_collection, tmp_path):  # noqa: F811
    dest = tmp_path / "repo"
    playbook("webcert_siths.onboarding.new_provider", "--check", "-e", f"dest={dest}",
             cwd=tmp_path, ANSIBLE_COLLECTIONS_PATH=str(installed_collection.collections))
    assert not dest.exists() or not any(p.is_file() for p in dest.rglob("*"))


# ------------------------------------------------------- the ombud workflow, end to end

NEWCOMER = """
  - hsa_id: SE5599123451-P001
    given_name: Nora
    surname: Nyberg
    titles: [Sjuksköterska]
    unit: SE5599123451-E001
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=it@sjovik.example.se", "-c",
                           "user.name=IT", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed")
def test_ombud_workflow_from_the_repository_without_any_directory(repo):
    # No HSA_LDAP_* anywhere (user_env drops them): nothing can connect to a directory.
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Starter description")
    ombud = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"}

    # First change request (main branch, no tag yet): everything is new.
    r = run(["sh", "ci/hsa-apply.sh"], cwd=repo, env=user_env(repo / ".ansible-home", **ombud))
    assert "Ingen git-tagg hsa-confirmed ännu" in r.stdout
    first = (repo / "reports/change-request/change-request.md").read_text(encoding="utf-8")
    assert "Registrera vårdgivaren: Sjöviks Vård AB (SE5599123451-VG01)" in first
    assert "Beställare: Anna IT" in first and "Kontakt vid frågor: it@sjovik.example.se" in first
    assert (repo / "reports/change-request/change-request.csv").read_bytes().startswith(
        b"\xef\xbb\xbf")
    assert (repo / "reports/change-request/change-request.html").is_file()

    # The ombud confirmed it: mark the baseline.
    git(repo, "tag", "hsa-confirmed")

    # A merge request adds a nurse to the unit and its commission.
    unit = repo / "provider/units/e001.yml"
    text = unit.read_text(encoding="utf-8")
    text = text.replace("    members: []", "    members: [SE5599123451-P001]")
    text = text.replace("people: []", "people:" + NEWCOMER.rstrip("\n"))
    unit.write_text(text, encoding="utf-8")
    git(repo, "commit", "-qam", "Nora Nyberg starts")

    r = run(["sh", "ci/hsa-plan.sh", "HEAD~1"], cwd=repo,
            env=user_env(repo / ".ansible-home", **ombud))
    plan_md = (repo / "reports/hsa-plan.md").read_text(encoding="utf-8")
    assert "### Registrera ny person: Nora Nyberg (SE5599123451-P001)" in plan_md
    assert "Lägg till Nora Nyberg (SE5599123451-P001) som medarbetare." in plan_md.replace("\\", "")
    assert "Registrera vårdgivaren" not in plan_md  # only what changed since HEAD~1

    # The README's command 3 plans against the tag (group_vars hsa_baseline).
    r = playbook("webcert_siths.onboarding.hsa", "--check", cwd=repo, **ombud)
    assert "2 ändringar sedan hsa-confirmed" in r.stdout

    # The ombud registered it: move the tag; nothing is pending any more.
    git(repo, "tag", "-f", "hsa-confirmed")
    r = playbook("webcert_siths.onboarding.hsa", "--check", cwd=repo, **ombud)
    assert "Inga ändringar sedan hsa-confirmed" in r.stdout

    # An unknown baseline stops with a clear message.
    r = playbook("webcert_siths.onboarding.hsa", "-e", "hsa_baseline=no-such-tag", cwd=repo,
                 check=False, **ombud)
    assert r.returncode != 0
    assert "hsa_baseline 'no-such-tag' är varken en mapp eller en git-referens" in r.stdout


def test_staff_list_and_ldif_import_from_the_repository(repo):
    # Staff list from the HR system, merged by the installed collection into provider/
    # (hsa_provider_path comes from the repository's group_vars).
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["HSA-id", "Förnamn", "Efternamn", "Yrke", "Enhet", "Slutdatum"])
    book.active.append(["SE5599123451-P002", "Olle", "Lund", "Läkare",
                        "Sjöviks Vård AB Vårdcentral", None])
    book.active.append(["SE5599123451-P003", "Kim", "", "", "SE5599123451-E001", None])
    book.save(repo / "personal.xlsx")
    (repo / "staff-mapping.yml").write_text(
        "columns:\n  hsa_id: HSA-id\n  given_name: Förnamn\n  surname: Efternamn\n"
        "  titles: Yrke\n  unit: Enhet\n  end: Slutdatum\n", encoding="utf-8")
    r = playbook("webcert_siths.onboarding.staff_import", "-e", "staff_file=personal.xlsx",
                 "-e", "staff_mapping=staff-mapping.yml", cwd=repo)
    assert "personal.xlsx, rad 3, kolumn 'Efternamn': efternamn saknas" in r.stdout
    unit = (repo / "provider/units/e001.yml").read_text(encoding="utf-8")
    assert "  - hsa_id: SE5599123451-P002\n    given_name: Olle\n" in unit
    assert "En fil per vårdenhet: kopiera den här filen för nästa." in unit  # comments kept
    playbook("webcert_siths.onboarding.validate", cwd=repo)

    # An LDIF export from the HSA agent, imported into a new folder of the repository.
    ldif = repo / "export.ldif"
    ldif.write_text(
        "dn: o=Sjöviks Vård AB,c=SE\nobjectClass: organization\n"
        "objectClass: hsaHealthCareProvider\no: Sjöviks Vård AB\n"
        "hsaIdentity: SE5599123451-VG01\norgNo: 559912-3451\n\n"
        "dn: ou=Norr,o=Sjöviks Vård AB,c=SE\nobjectClass: organizationalUnit\n"
        "objectClass: hsaHealthCareUnit\nou: Norr\nhsaIdentity: SE5599123451-E100\n"
        "mail: norr@example.se\nunitPrescriptionCode: 4711001\n"
        "hsaResponsibleHealthCareProvider: SE5599123451-VG01\nstreet: Storgatan 1\n",
        encoding="utf-8")
    playbook("webcert_siths.onboarding.hsa_import", "-e", "hsa_import_ldif=export.ldif",
             "-e", "hsa_import_dest=imported", cwd=repo)
    assert "# street: Storgatan 1" in (repo / "imported/units/norr.yml").read_text(
        encoding="utf-8")
    r = playbook("webcert_siths.onboarding.validate", "-e", "hsa_provider_path=imported",
                 cwd=repo)
    assert ("imported: beskrivningen är giltig (vårdenheter: 1, personer: 0, "
            "medarbetaruppdrag: 0") in r.stdout


def test_readiness_without_a_directory_predicts_and_says_so(repo):
    # No HSA_LDAP_* at all: readiness.yml predicts from the description.
    r = playbook("webcert_siths.onboarding.readiness", "-e", "readiness_warn_only=true",
                 cwd=repo)
    assert "HSA har inte bekräftat någon av dessa bedömningar" in r.stdout
    import json

    data = json.loads((repo / "reports" / "readiness.json").read_text(encoding="utf-8"))
    assert data["source"] == "description"
    assert data["people"] and {p["hsa_confirmed"] for p in data["people"]} == {False}
