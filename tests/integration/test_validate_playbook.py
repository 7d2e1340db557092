"""playbooks/validate.yml end to end with real ansible-playbook runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example" / "provider"
DEMO = ROOT / "inventories" / "demo" / "provider"


def run_validate(*extra: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    return subprocess.run(
        [playbook, str(ROOT / "playbooks" / "validate.yml"), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_example_description_passes(tmp_path):
    proc = run_validate("-e", f"hsa_provider_path={EXAMPLE}", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("beskrivningen är giltig (vårdenheter: 4, personer: 15, medarbetaruppdrag: 4, "
            "varningar: 0)") in proc.stdout


def test_without_a_description_it_stops_and_names_the_variable(tmp_path):
    # No default provider: the project's ansible.cfg must not lead to the demo description.
    proc = run_validate(tmp_path=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Beskrivningen av vårdgivaren är inte angiven (hsa_provider_path)" in out
    assert "Demo Vård" not in out and "demo/provider" not in out


def test_demo_description_shows_its_warnings(tmp_path):
    proc = run_validate("-e", f"hsa_provider_path={DEMO}", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert ("demo/provider: beskrivningen är giltig (vårdenheter: 2, personer: 7, "
            "medarbetaruppdrag: 2, varningar: 2)") in out
    assert "har inget medarbetaruppdrag" in out  # Swedish by default
    assert "vårdadministratör" in out


def test_check_mode_validates_too(tmp_path):
    broken = tmp_path / "provider"
    shutil.copytree(EXAMPLE, broken)
    norr = broken / "units" / "norr.yml"
    norr.write_text(norr.read_text(encoding="utf-8").replace("email:", "emial:"), encoding="utf-8")
    proc = run_validate("--check", "-e", f"hsa_provider_path={broken}", tmp_path=tmp_path)
    assert proc.returncode != 0
    assert "units[0].emial" in proc.stdout


@pytest.mark.parametrize(("language", "sentence", "failure"), [
    ("sv", "ska vara 7 siffror: en förskrivarkod har exakt 7 siffror", "Beskrivningen {} har 1 fel"),
    ("en", "must be 7 digits: a förskrivarkod has exactly 7 digits", "The description {} has 1 error"),
])
def test_broken_copy_fails_naming_file_line_and_field(tmp_path, language, sentence, failure):
    broken = tmp_path / "provider"
    shutil.copytree(EXAMPLE, broken)
    soder = broken / "units" / "soder.yml"
    text = soder.read_text(encoding="utf-8").replace(
        'prescriber_code: "2345678"', 'prescriber_code: "23456"'
    )
    soder.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"23456"' in row)
    proc = run_validate("-e", f"hsa_provider_path={broken}", "-e", f"webcert_language={language}",
                        tmp_path=tmp_path)
    assert proc.returncode != 0
    expected = f'units/soder.yml:{line} people[0].prescriber_code: \\"23456\\" {sentence}'
    assert expected in proc.stdout, proc.stdout
    assert failure.format(broken) in proc.stdout


@pytest.mark.parametrize("strict", ["true", "false"])
def test_strict_ids_switch_from_the_command_line(tmp_path, strict):
    description = tmp_path / "test.yml"
    text = (
        (DEMO / "provider.yml")
        .read_text(encoding="utf-8")
        .replace("SE5599001236-VG01", "TSTNMT2321000156-VG01")
    )
    description.write_text(text + "units: []\n", encoding="utf-8")
    proc = run_validate(
        "-e",
        f"hsa_provider_path={description}",
        "-e",
        f"hsa_strict_ids={strict}",
        tmp_path=tmp_path,
    )
    assert (proc.returncode == 0) is (strict == "false"), proc.stdout
