"""Unit tests of the provider_validate module, ansible-test style.

The module runs in-process: ``patch_module_args`` (ansible-core's testing helper) hands it
its arguments, and exit_json/fail_json are replaced by exceptions that carry the result.
These files run under ``ansible-test units`` (see docs/testing.md) and plain pytest.
"""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.webcert_siths.onboarding.plugins.modules import provider_validate

PROVIDER = """\
provider:
  hsa_id: SE5599123451-VG01
  name: Sjöviks Vårdcentraler AB
  org_no: "559912-3451"
units:
  - hsa_id: SE5599123451-VE01
    name: Vårdcentralen Norr
    email: norr@example.se
    workplace_codes: ["1234567"]
"""


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


def run(**args) -> tuple[str, dict]:
    with patch_module_args(args):
        try:
            provider_validate.main()
        except ExitJson as done:
            return "exit", done.args[0]
        except FailJson as failed:
            return "fail", failed.args[0]
    raise AssertionError("the module returned without exit_json or fail_json")


def test_a_valid_description_is_summarised_and_changes_nothing(tmp_path):
    (tmp_path / "provider.yml").write_text(PROVIDER, encoding="utf-8")
    how, result = run(path=str(tmp_path), _ansible_check_mode=True)
    assert how == "exit"
    assert result["changed"] is False
    assert result["counts"] == {"error": 0, "warning": result["counts"]["warning"]}
    assert result["summary"]["provider"] == "SE5599123451-VG01"
    assert result["summary"]["units"] == 1 and result["summary"]["people"] == 0


def test_an_error_fails_with_file_line_and_field(tmp_path):
    broken = PROVIDER.replace("norr@example.se", "norr@")
    (tmp_path / "provider.yml").write_text(broken, encoding="utf-8")
    how, result = run(path=str(tmp_path))
    assert how == "fail"
    assert result["counts"]["error"] == 1
    line = broken.splitlines().index("    email: norr@") + 1
    assert f"provider.yml:{line}" in result["msg"]
    assert "units[0].email" in result["msg"]
    (finding,) = [f for f in result["findings"] if f["severity"] == "error"]
    assert finding["line"] == line


def test_strict_ids_is_an_option(tmp_path):
    test_ids = PROVIDER.replace("SE5599123451-VE01", "TSTNMT2321000156-DRAA")
    (tmp_path / "provider.yml").write_text(test_ids, encoding="utf-8")
    assert run(path=str(tmp_path))[0] == "fail"
    assert run(path=str(tmp_path), strict_ids=False)[0] == "exit"


def test_a_missing_argument_is_refused():
    how, result = run()
    assert how == "fail"
    assert "path" in result["msg"]
