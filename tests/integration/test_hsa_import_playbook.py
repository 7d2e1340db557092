"""playbooks/hsa_import.yml on the real sandbox directory: import, then plan = no change."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
EXAMPLE_PATH = ROOT / "inventories" / "example" / "provider"
NO_CHANGE = "Plan: 0 läggs till, 0 ändras, 0 flyttas eller byter namn, 0 tas bort"


@pytest.fixture
def box(hsa_sandbox):
    hsa_sandbox.reset()
    return hsa_sandbox


def playbook(box, name, *args, cwd=ROOT):
    env = {**os.environ, **box.env, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_NOCOLOR": "1", "HSA_CACHE_DIR": os.environ.get("HSA_CACHE_DIR", "")}
    return subprocess.run([str(PLAYBOOK), str(ROOT / "playbooks" / name), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, check=False, timeout=600)


@pytest.mark.parametrize("name", ["example", "demo"])
def test_import_from_the_directory_and_from_ldif_then_nothing_to_change(box, name, tmp_path):
    source = ROOT / "inventories" / name / "provider"
    r = playbook(box, "hsa.yml", "-e", f"hsa_provider_path={source}")
    assert r.returncode == 0, r.stdout[-3000:]
    # a value the description does not manage, set by someone in HSA Admin
    person = next(line.split("hsa_id: ")[1] for f in sorted(source.rglob("*.yml"))
                  for line in f.read_text(encoding="utf-8").splitlines()
                  if "hsa_id:" in line and "-P" in line)
    found = box.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", box.base_dn,
                          f"(hsaIdentity={person})", "1.1").stdout
    dn_line = found.strip().splitlines()[0]  # "dn: ..." or "dn:: <base64>"
    box.ldap_tool("ldapmodify", input=f"{dn_line}\nchangetype: modify\n"
                  "add: telephoneNumber\ntelephoneNumber: 010-123 45 67\n")

    imported = tmp_path / "from-directory"
    r = playbook(box, "hsa_import.yml", "-e", f"hsa_import_dest={imported}")
    assert r.returncode == 0, r.stdout[-3000:]
    texts = "".join(p.read_text(encoding="utf-8") for p in imported.rglob("*.yml"))
    assert "# telephoneNumber: 010-123 45 67" in texts
    check = playbook(box, "hsa.yml", "--check", "-e", f"hsa_provider_path={imported}")
    assert check.returncode == 0 and NO_CHANGE in check.stdout, check.stdout[-3000:]

    export = tmp_path / "export.ldif"
    export.write_text(box.ldap_tool("ldapsearch", "-LLL", "-b", box.base_dn).stdout,
                      encoding="utf-8")
    from_ldif = tmp_path / "from-ldif"
    r = playbook(box, "hsa_import.yml", "-e", f"hsa_import_dest={from_ldif}",
                 "-e", f"hsa_import_ldif={export}")
    assert r.returncode == 0, r.stdout[-3000:]
    check = playbook(box, "hsa.yml", "--check", "-e", f"hsa_provider_path={from_ldif}")
    assert check.returncode == 0 and NO_CHANGE in check.stdout, check.stdout[-3000:]
    assert sorted(p.relative_to(from_ldif) for p in from_ldif.rglob("*.yml")) == sorted(
        p.relative_to(imported) for p in imported.rglob("*.yml"))


def test_import_refuses_a_folder_with_a_description_and_writes_nothing(box, tmp_path):
    dest = tmp_path / "provider"
    dest.mkdir()
    (dest / "provider.yml").write_text("# mine\n", encoding="utf-8")
    r = playbook(box, "hsa.yml", "-e", f"hsa_provider_path={ROOT / 'inventories/demo/provider'}")
    assert r.returncode == 0
    r = playbook(box, "hsa_import.yml", "-e", f"hsa_import_dest={dest}")
    assert r.returncode != 0
    assert "innehåller redan YAML-filer" in r.stdout and "ingenting har skrivits" in r.stdout
    assert [p.name for p in dest.iterdir()] == ["provider.yml"]
    assert (dest / "provider.yml").read_text(encoding="utf-8") == "# mine\n"


def test_import_without_destination_names_the_variable(box):
    r = playbook(box, "hsa_import.yml")
    assert r.returncode != 0 and "Ange mappen som beskrivningen ska skrivas till" in r.stdout
    assert "För IT: hsa_import_dest är inte satt." in r.stdout
    r = playbook(box, "hsa_import.yml", "-e", "webcert_language=en")
    assert r.returncode != 0 and "For IT: hsa_import_dest is not set." in r.stdout


def test_baseline_with_a_directory_connection_also_says_whether_hsa_matches(box, tmp_path):
    # The ombud registered the example (here: applied to the sandbox); the baseline is the
    # same description. --check with a connection then reads the directory too.
    r = playbook(box, "hsa.yml", "-e", f"hsa_provider_path={EXAMPLE_PATH}")
    assert r.returncode == 0, r.stdout[-3000:]
    r = playbook(box, "hsa.yml", "--check", "-e", f"hsa_provider_path={EXAMPLE_PATH}",
                 "-e", f"hsa_baseline={EXAMPLE_PATH}")
    assert r.returncode == 0, r.stdout[-3000:]
    assert "Inga ändringar sedan" in r.stdout
    assert "HSA stämmer redan med beskrivningen: allt sedan baslinjen är registrerat." in r.stdout

    # A change in the description that the agent has not registered yet: pending since the
    # baseline, and HSA does not match.
    changed = tmp_path / "provider"
    shutil.copytree(EXAMPLE_PATH, changed)
    norr = changed / "units" / "norr.yml"
    norr.write_text(norr.read_text(encoding="utf-8").replace(
        'prescriber_code: "1234567"', 'prescriber_code: "7654321"'), encoding="utf-8")
    r = playbook(box, "hsa.yml", "--check", "-e", f"hsa_provider_path={changed}",
                 "-e", f"hsa_baseline={EXAMPLE_PATH}")
    assert r.returncode == 0, r.stdout[-3000:]
    assert "1 ändring sedan" in r.stdout
    assert ("HSA stämmer inte med beskrivningen än; ombudet har inte registrerat allt sedan "
            "baslinjen. Plan: 0 läggs till, 1 ändras") in r.stdout

    # Without --check, baseline mode never touches the directory.
    before = box.ldap_tool("ldapsearch", "-LLL", "-b", box.base_dn).stdout
    r = playbook(box, "hsa.yml", "-e", f"hsa_provider_path={changed}",
                 "-e", f"hsa_baseline={EXAMPLE_PATH}", "-e", f"hsa_export_dir={tmp_path / 'cr'}")
    assert r.returncode == 0, r.stdout[-3000:]
    assert box.ldap_tool("ldapsearch", "-LLL", "-b", box.base_dn).stdout == before
    assert "Ändra 1234567 till 7654321." in (tmp_path / "cr" / "change-request.md").read_text(
        encoding="utf-8")


def test_directory_plan_as_markdown_for_ci(box, tmp_path):
    r = playbook(box, "hsa.yml", "-e", f"hsa_provider_path={EXAMPLE_PATH}")
    assert r.returncode == 0, r.stdout[-3000:]
    changed = tmp_path / "provider"
    shutil.copytree(EXAMPLE_PATH, changed)
    norr = changed / "units" / "norr.yml"
    norr.write_text(norr.read_text(encoding="utf-8").replace(
        'prescriber_code: "1234567"', 'prescriber_code: "7654321"'), encoding="utf-8")
    out = tmp_path / "reports" / "hsa-plan.md"
    r = playbook(box, "hsa.yml", "--check", "-e", f"hsa_provider_path={changed}",
                 "-e", f"hsa_plan_file={out}")
    assert r.returncode == 0, r.stdout[-3000:]
    md = out.read_text(encoding="utf-8")
    assert "| Förskrivarkod | Ändra 1234567 till 7654321. |" in md
    assert "### Ändra personuppgifter: Åsa Öberg (SE5599123451-P101)" in md
