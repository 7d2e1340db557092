#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: will every person be able to log in and sign in Webcert? (Webcert-status)"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: webcert_readiness
short_description: Report, per person and care unit, whether Webcert will work and why not
description:
  - Reads the provider description (YAML) and validates it; any validation error stops the
    module before it connects to the directory.
  - Reads the B(actual) directory state below O(base_dn) (one connection, one paged subtree
    search). Readiness is decided from the directory, not from the YAML, because that is what
    Webcert reads. The YAML is used to say where to fix a problem (file and line), whether the
    directory has drifted from the description, who is expected to use Webcert, the expected
    role, the onboarding steps and each unit's workstation host group.
  - Per person it computes the Webcert role with Webcert's own rules (legitimerad yrkesgrupp,
    befattningskod, gruppförskrivarkod), the units they can act for (active commissions with
    purpose C(Vård och behandling) on units that exist), Rehabstöd access (doctors with such a
    commission), the certificate status from O(siths_report), a status C(ready), C(warning) or
    C(blocked), and every problem in plain words with the fix.
  - Per unit it checks e-mail and arbetsplatskod, lists the commissions, the people ready and
    not ready, and the workstations (from O(workstation_report), matched by the unit's
    C(host_group)). Per provider it checks the organisationsnummer and lists the onboarding
    steps with Inera that are still open (manual steps).
  - Writes C(readiness.json) and C(readiness.html) (a self-contained page, readable on a
    phone) to O(report_dir), and returns the data and a short terminal summary.
  - Fails when anyone expected to use Webcert (C(uses_webcert), default true) is blocked,
    unless O(warn_only=true).
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
options:
  provider_path:
    description: A provider description YAML file, or a folder of them (merged).
    type: path
    required: true
  strict_ids:
    description:
      - Require production-shaped HSA-ids. Set to V(false) for test-environment ids.
    type: bool
    default: true
  siths_report:
    description:
      - The certificate findings written by C(playbooks/siths.yml) (C(siths.json)).
      - When unset or the file does not exist, certificates count as "not checked" (a warning
        for everyone, never a pass).
    type: path
  workstation_report:
    description:
      - The workstation summary written by C(playbooks/workstations.yml) (C(workstations.json)).
      - Optional; without it workstations are shown as not checked.
    type: path
  report_dir:
    description:
      - Folder for C(readiness.json) and C(readiness.html) (created when missing).
      - When unset, no files are written; the data is only returned.
    type: path
  warn_only:
    description: Never fail because people are blocked (for dashboards); the data says so.
    type: bool
    default: false
  predict:
    description:
      - Without a directory connection, predict each verdict from the description alone (as
        if HSA held exactly what it describes), plus the certificate and workstation reports
        when given. Every verdict is then marked as not confirmed by HSA (C(hsa_confirmed)
        false, C(source) V(description)); nothing connects to a directory.
    type: bool
    default: false
  today:
    description:
      - The date (C(YYYY-MM-DD)) to judge commission and certificate dates against.
      - Defaults to today on the controller. For tests and reproducible reports.
    type: str
extends_documentation_fragment:
  - webcert_siths.onboarding.hsa_ldap
  - webcert_siths.onboarding.language
notes:
  - Check mode reads the directory and the reports and returns the data and the summary, but
    does B(not) write C(readiness.json) or C(readiness.html).
  - The module reports C(changed) when it wrote a report file whose content differed.
  - Report files contain names and HSA-ids; they are written with mode 0640.
  - Needs the Python package python-ldap on the controller.
  - How to run and read the report is described in docs/readiness.md.
requirements:
  - python-ldap
"""

EXAMPLES = r"""
- name: Readiness of everyone in the provider description
  webcert_siths.onboarding.webcert_readiness:
    provider_path: "{{ inventory_dir }}/provider"
    siths_report: reports/siths.json
    workstation_report: reports/workstations.json
    report_dir: reports
  register: readiness

- name: Print the short summary
  ansible.builtin.debug:
    msg: "{{ readiness.text }}"

- name: Dashboard use - report, never fail, fixed date
  webcert_siths.onboarding.webcert_readiness:
    provider_path: provider/
    uri: ldaps://hsa.region.example.se
    base_dn: c=SE
    bind_dn: cn=readiness,ou=System,c=SE
    bind_password: "{{ vault_hsa_read_password }}"
    ca_file: /etc/pki/directory-ca.pem
    report_dir: /var/www/readiness
    warn_only: true
    today: "2026-12-01"
"""

RETURN = r"""
readiness:
  description: The whole report as data (the same as readiness.json).
  returned: success, and on failure because people are blocked
  type: dict
  contains:
    people:
      description:
        - One entry per person (description and directory combined), blocked first. Keys
          C(hsa_id), C(name), C(uses_webcert), C(unit_ids), C(units), C(role), C(role_label),
          C(role_reason), C(expected_role), C(rehabstod), C(rehabstod_units), C(certificates),
          C(status) (ready, warning, blocked), C(shown_status) (the same, or not_expected
          for C(uses_webcert=false)), C(status_label), C(problems) and C(warnings) (lists of
          C({message, fix, it}) in O(language); C(it) is the technical detail for IT),
          C(source) (YAML file:line) and C(dn).
      type: list
      elements: dict
    units:
      description:
        - One entry per care unit. Keys C(hsa_id), C(name), C(email), C(workplace_codes),
          C(commissions), C(people_ready), C(people_not_ready), C(workstations), C(status),
          C(problems), C(warnings).
      type: list
      elements: dict
    provider:
      description: C(hsa_id), C(name), C(org_no), C(onboarding) (steps, done or open), C(status).
      type: dict
    summary:
      description: Counts (see RV(summary)).
      type: dict
    exit:
      description: C(failed) (bool), C(blocked) (HSA-ids), C(message).
      type: dict
summary:
  description: Counts of people and units by status.
  returned: success, and on failure because people are blocked
  type: dict
  sample: {"people": 6, "expected": 5, "ready": 2, "warning": 1, "blocked": 2,
           "units": 2, "units_ready": 1, "units_warning": 0, "units_blocked": 1,
           "open_manual_steps": 1, "rehabstod": 2, "status": "blocked"}
text:
  description: A short summary for the terminal (blocked people with the first fix).
  returned: success, and on failure because people are blocked
  type: str
blocked:
  description: True when someone expected to use Webcert is blocked.
  returned: success, and on failure because people are blocked
  type: bool
where:
  description: One line, in O(language), that says where the report files are (or that none were written).
  returned: always
  type: str
fail_hint:
  description: One line, in O(language), to show when the job fails because people are blocked.
  returned: always
  type: str
report_files:
  description: Paths of the files written (empty in check mode or without report_dir).
  returned: always
  type: dict
  sample: {"json": "reports/readiness.json", "html": "reports/readiness.html"}
findings:
  description: Validation findings of the description (errors stop the module).
  returned: always
  type: list
  elements: str
"""

import contextlib
import datetime as dt
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.module_args import (
    LDAP_ARGUMENT_SPEC,
    ldap_settings,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    LANGUAGE_OPTION,
    _,
    ngettext,
    use_language,
)

try:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
        load_provider,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapConfigError,
        LdapConnectError,
        connect,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
        read_directory_model,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.files import (
        write_if_changed,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (
        build_readiness,
        mark_predicted,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness_render import (
        render_html,
        render_text,
        to_json,
    )

    IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - shown to the user
    IMPORT_ERROR = exc


def argument_spec() -> dict:
    return {
        **LDAP_ARGUMENT_SPEC,
        "provider_path": {"type": "path", "required": True},
        "strict_ids": {"type": "bool", "default": True},
        "siths_report": {"type": "path"},
        "workstation_report": {"type": "path"},
        "report_dir": {"type": "path"},
        "warn_only": {"type": "bool", "default": False},
        "today": {"type": "str"},
        "predict": {"type": "bool", "default": False},
        "language": dict(LANGUAGE_OPTION),
    }


def read_json_report(module, path, label):
    """The parsed JSON report, or None (with a warning) when the file is not there."""
    if not path:
        return None
    if not os.path.isfile(path):
        module.warn(_("%(label)s %(path)s does not exist; it is treated as not checked",
                      label=label, path=path))
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        module.fail_json(msg=_("%(label)s %(path)s could not be read as JSON: %(error)s",
                               label=label, path=path, error=exc), changed=False)
    if not isinstance(data, dict):
        module.fail_json(msg=_("%(label)s %(path)s is not a JSON object", label=label,
                               path=path), changed=False)
    return data


def previous_stamp(path: str) -> str | None:
    """The ``generated`` time stamp of the JSON report at ``path``, if there is one."""
    try:
        with open(path, encoding="utf-8") as handle:
            old = json.load(handle)
    except (OSError, ValueError):
        return None
    stamp = old.get("generated") if isinstance(old, dict) else None
    return stamp if isinstance(stamp, str) and stamp else None


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if IMPORT_ERROR is not None:
        module.fail_json(msg=f"the toolkit's module_utils could not be imported: {IMPORT_ERROR}")
    with use_language(p["language"]):
        run(module, p)


def run(module, p) -> None:
    try:
        today = dt.date.fromisoformat(p["today"]) if p["today"] else dt.date.today()
    except ValueError:
        module.fail_json(msg=_("today: %(value)s is not a date (write YYYY-MM-DD)",
                               value=repr(p["today"])))

    loaded = load_provider(p["provider_path"], strict_ids=p["strict_ids"])
    findings = [str(f) for f in loaded.findings]
    errors = [str(f) for f in loaded.errors]
    if errors or loaded.model is None:
        module.fail_json(
            msg=ngettext("The provider description has %(num)s error; no report was made:",
                         "The provider description has %(num)s errors; no report was made:",
                         len(errors)) + "\n" + "\n".join(errors),
            findings=findings, changed=False, report_files={})

    certificates = read_json_report(module, p["siths_report"], "siths_report")
    workstations = read_json_report(module, p["workstation_report"], "workstation_report")

    if p["predict"]:  # no directory: the description stands in for what HSA holds
        actual = loaded.model
    else:
        try:
            settings = ldap_settings(module)
            conn = connect(settings)
            try:
                actual = read_directory_model(conn, settings.base_dn)
            finally:
                with contextlib.suppress(Exception):  # the connection may already be gone
                    conn.unbind()
        except (LdapConfigError, LdapConnectError) as exc:
            module.fail_json(msg=str(exc), findings=findings, changed=False, report_files={})

    generated = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
    with use_language(p["language"]):
        data = build_readiness(loaded.model, actual, today, certificates, workstations,
                               generated)
        if p["predict"]:
            mark_predicted(data)
        html = render_html(data)

    files: dict[str, str] = {}
    changed = False
    html_path = None
    if p["report_dir"]:
        json_path = os.path.join(p["report_dir"], "readiness.json")
        html_path = os.path.join(p["report_dir"], "readiness.html")
        if not module.check_mode:
            os.makedirs(p["report_dir"], exist_ok=True)
            # A file whose only difference is the time stamp is left as it is.
            previous = previous_stamp(json_path)

            def same_but_stamp(old):
                return old.replace(previous, generated) if previous else old

            for path, text in ((json_path, to_json(data)), (html_path, html)):
                changed |= write_if_changed(path, text, normalize=same_but_stamp)
            files = {"json": json_path, "html": html_path}
    with use_language(p["language"]):
        text = render_text(data, html_path if files else None)
        if files:
            where = _("HTML report: %(html)s (open it in a browser; JSON for machines: "
                      "%(json)s)", html=files["html"], json=files["json"])
        else:
            where = _("Check mode or no report_dir: no report files were written.")
        fail_hint = _("See what to do above and in the HTML report (set readiness_warn_only="
                      "true to only report).")
    result = {
        "changed": changed,
        "readiness": data,
        "summary": data["summary"],
        "text": text,
        "blocked": data["exit"]["failed"],
        "report_files": files,
        "findings": findings,
        "where": where,
        "fail_hint": fail_hint,
    }
    if data["exit"]["failed"] and not p["warn_only"]:
        module.fail_json(msg=data["exit"]["message"] + " " + _("(set warn_only to only report)"),
                         **result)
    module.exit_json(msg=data["exit"]["message"], **result)


if __name__ == "__main__":
    main()
