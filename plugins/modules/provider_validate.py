#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: validate the care provider's YAML description."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: provider_validate
short_description: Validate the care provider's HSA description (YAML)
description:
  - Reads the provider description (one YAML file, or every C(*.yml)/C(*.yaml) file
    below a folder, merged) and checks every rule listed in C(docs/provider-yaml.md).
  - The checks cover YAML syntax, unknown keys (with a did-you-mean), required fields, HSA-id,
    organisationsnummer (with check digit), förskrivarkod, arbetsplatskod,
    befattningskod and e-mail formats, duplicate HSA-ids across files, references
    between units, people and commissions, and the attributes Webcert needs.
  - Every finding names the file, line, field path, a short visible excerpt of the value,
    what is wrong and what would be right.
  - Fails when there is at least one error, with the first I(print_limit) findings
    (errors first, each labelled C(FEL) or C(VARNING), in English C(ERROR) or
    C(WARNING)) and one line saying how many more there are. Warnings do not fail.
  - When there are more findings than I(print_limit) and I(report_file) is set, every
    finding is written to I(report_file) (of each kind of finding, at most 1000 are
    collected; the rest are counted).
  - A file or folder in the description that resolves outside it (a symbolic link) is
    refused by name and never read, unless I(follow_symlinks) is true and it resolves
    inside one of I(symlink_roots).
  - Only reads the description, so check mode is fully supported; the only file it may
    write is the I(report_file) of findings.
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
options:
  path:
    description:
      - A YAML file or a folder of YAML files holding the provider description.
      - In a folder, files are read sorted by relative path, recursively; names
        starting with a dot are skipped.
    type: path
    required: true
  strict_ids:
    description:
      - Require production HSA-ids (C(SE) + 10-digit organisationsnummer + C(-) +
        letters/digits, at most 31 characters).
      - Set to C(false) for test-environment ids such as C(TSTNMT2321000156-DRAA).
    type: bool
    default: true
  follow_symlinks:
    description:
      - Follow symbolic links in the description that resolve outside it, when they
        resolve inside one of I(symlink_roots). Off by default, because a link to a file
        anywhere on the control node is easy to miss in a review.
    type: bool
    default: false
  symlink_roots:
    description:
      - Folders that links may point into when I(follow_symlinks) is true.
    type: list
    elements: path
    default: []
  print_limit:
    description:
      - How many findings the result's C(lines) and the failure message hold at most.
    type: int
    default: 50
  report_file:
    description:
      - Where every finding is written when there are more than I(print_limit).
      - Not written when all findings fit in I(print_limit).
    type: path
extends_documentation_fragment:
  - webcert_siths.onboarding.language
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
    support: none
    details: The module never changes anything.
notes:
  - "Runs on the controller (C(delegate_to: localhost)); needs PyYAML."
seealso:
  - name: Provider YAML reference
    description: Every key, its Swedish HSA name, LDAP attribute, format and the errors.
    link: docs/provider-yaml.md
"""

EXAMPLES = r"""
- name: Validate the provider description
  webcert_siths.onboarding.provider_validate:
    path: "{{ inventory_dir }}/provider"
  delegate_to: localhost
  run_once: true
  register: hsa_validation

- name: Validate test-environment data (ids like TSTNMT2321000156-DRAA)
  webcert_siths.onboarding.provider_validate:
    path: tests/data/provider.yml
    strict_ids: false
"""

RETURN = r"""
findings:
  description: The first I(print_limit) errors and warnings, errors first.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: C(error) or C(warning).
      type: str
    file:
      description: File relative to I(path) (or its name when I(path) is a file).
      type: str
    line:
      description: 1-based line; 0 when the finding is about a whole file.
      type: int
    path:
      description: Field path inside the file, e.g. C(people[3].prescriber_code).
      type: str
    value:
      description: The offending value, or null.
      type: raw
    message:
      description: What is wrong.
      type: str
    hint:
      description: What would be right.
      type: str
    text:
      description: "The finding as one line: C(file:line path: value message (hint))."
      type: str
  sample:
    - severity: error
      file: units/norr.yml
      line: 12
      path: units[0].email
      value: "x@"
      message: is not an e-mail address
      hint: write it as name@example.se
      text: >-
        units/norr.yml:12 units[0].email: "x@" is not an e-mail address
        (write it as name@example.se)
lines:
  description: >-
    What to print: C(errors) and C(warnings), each a list of labelled lines (at most
    I(print_limit) in all), and C(more), the closing sentence when findings were left out
    (else null); C(failure), the line a failed validation ends with (else null).
  returned: always
  type: dict
  sample:
    errors:
      - 'FEL: units/norr.yml:4 units[0].email: "x@" is not an e-mail address
        (write it as name@example.se)'
    warnings: []
    more: "… och 99950 fel till. Hela listan finns i reports/hsa-validation.txt."
    failure: null
report_file:
  description: The file every finding was written to (only when some were left out).
  returned: when written
  type: str
counts:
  description: Number of findings by severity, including findings only counted.
  returned: always
  type: dict
  sample: {error: 0, warning: 2}
summary:
  description: What the description holds (present when there are no errors).
  returned: success
  type: dict
  sample:
    provider: SE5599123451-VG01
    provider_name: Sjöviks Vårdcentraler AB
    units: 4
    people: 15
    commissions: 4
    host_groups: [unit_norr, unit_soder, unit_bvc, unit_tandvard]
    onboarding:
      registration_sent: "2026-09-01"
      agreement_signed: "2026-09-22"
      technical_order: BS-2026-004711
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    ERROR,
    WARNING,
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.presentation import (
    failure_line,
    needs_report,
    report_text,
    terminal_view,
)

# Imported so that AnsiballZ ships it with the module (load_provider imports it late).
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.validate import (  # noqa: F401 pylint: disable=unused-import
    load_and_validate,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    LANGUAGE_OPTION,
    _,
    ngettext,
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.files import (
    write_atomic,
)


def summarise(model) -> dict:
    onboarding = model.provider.onboarding
    return {
        "provider": model.provider.hsa_id,
        "provider_name": model.provider.name,
        "units": len(model.units),
        "people": len(model.people),
        "commissions": len(model.commissions),
        "host_groups": [u.host_group for u in model.units if u.host_group],
        "onboarding": {
            "registration_sent": _iso(onboarding.registration_sent),
            "agreement_signed": _iso(onboarding.agreement_signed),
            "technical_order": onboarding.technical_order,
        },
    }


def _iso(value):
    return value.isoformat() if value else None


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "strict_ids": {"type": "bool", "default": True},
            "follow_symlinks": {"type": "bool", "default": False},
            "symlink_roots": {"type": "list", "elements": "path", "default": []},
            "print_limit": {"type": "int", "default": 50},
            "report_file": {"type": "path"},
            "language": dict(LANGUAGE_OPTION),
        },
        supports_check_mode=True,
    )
    p = module.params
    limit = max(1, p["print_limit"])
    with use_language(p["language"]):  # the findings are made in the user's language
        result = load_provider(p["path"], strict_ids=p["strict_ids"],
                               follow_symlinks=p["follow_symlinks"],
                               symlink_roots=p["symlink_roots"])
    counts = {ERROR: result.count(ERROR), WARNING: result.count(WARNING)}
    report = None
    with use_language(p["language"]):
        if p["report_file"] and needs_report(result, limit):
            try:
                write_atomic(p["report_file"], report_text(result))
                report = p["report_file"]
            except OSError as exc:
                module.warn(_("The list of findings could not be written to %(path)s: "
                              "%(reason)s.", path=p["report_file"],
                              reason=exc.strerror or str(exc)))
        lines = terminal_view(result, limit, report)
        lines["failure"] = failure_line(result, p["path"])
        head = ngettext("The provider description has %(num)s error:",
                        "The provider description has %(num)s errors:", counts[ERROR])
    shown = [f for f in result.findings if f.severity == ERROR][:limit]
    shown += [f for f in result.findings if f.severity == WARNING][: limit - len(shown)]
    extra = {"findings": [f.to_dict() for f in shown], "counts": counts, "lines": lines}
    if report:
        extra["report_file"] = report
    if counts[ERROR]:
        text = "\n".join(lines["errors"] + lines["warnings"] + [lines["more"] or ""]).rstrip()
        module.fail_json(
            msg=f"{head}\n{text}", **extra)
    module.exit_json(changed=False, summary=summarise(result.model), **extra)


if __name__ == "__main__":
    main()
