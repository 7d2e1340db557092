#!/usr/bin/python
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
  - Every finding names the file, line, field path, the value, what is wrong and
    what would be right.
  - Fails, listing every error, when there is at least one error. Warnings do not
    fail; they are returned and shown as Ansible warnings.
  - Only reads files, so check mode is fully supported and nothing is ever changed.
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit
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
attributes:
  check_mode:
    support: full
  diff_mode:
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
  description: Every error and warning, sorted by file and line.
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
counts:
  description: Number of findings by severity.
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
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.validate import (
    load_and_validate,  # noqa: F401 (shipped with module)
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
        },
        supports_check_mode=True,
    )
    result = load_provider(module.params["path"], strict_ids=module.params["strict_ids"])
    findings = [f.to_dict() for f in result.findings]
    counts = {
        ERROR: sum(1 for f in result.findings if f.severity == ERROR),
        WARNING: sum(1 for f in result.findings if f.severity == WARNING),
    }
    for finding in result.findings:
        if finding.severity == WARNING:
            module.warn(str(finding))  # returned in the result's "warnings" too
    if counts[ERROR]:
        errors = [str(f) for f in result.findings if f.severity == ERROR]
        module.fail_json(
            msg=f"The provider description has {counts[ERROR]} error(s):\n" + "\n".join(errors),
            findings=findings,
            counts=counts,
        )
    module.exit_json(
        changed=False,
        findings=findings,
        counts=counts,
        summary=summarise(result.model),
    )


if __name__ == "__main__":
    main()
