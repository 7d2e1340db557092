#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: write a fault report (felanmälan) bundle for Inera's Webcert support."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: webcert_support_bundle
short_description: Write one archive and a ready-to-paste text for a Webcert fault report
description:
  - Inera's guide says that a fault report (felanmälan), made after local support has tried,
    must carry the certificate (intyg) id, the HSA-id of the person and of the care unit, the
    error message and exactly when it happened. This module checks those inputs and writes
    them, with what local support found, to one archive (tar.gz or zip) plus a text file
    ready to paste into Inera's support form (Swedish headings with English in brackets).
  - Adds the person's readiness (Webcert role, commissions, the unit's e-mail and
    arbetsplatskod, known problems) from O(readiness) or O(readiness_report), the person's
    certificate findings from O(siths_report) and, when O(host) is given, that workstation's
    smart-card client, version, services and readers from O(workstation_report).
  - Only that person, that unit and that host are included; other people's data and the
    unit's lists of people are left out. Keys that look like secrets (passwords, keys,
    tokens) are replaced by C(***), and so is every value given in O(redact_values).
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
options:
  intyg_id:
    description:
      - The certificate id (intygs-ID), shown at the bottom of the certificate in Webcert.
      - Optional because a login problem has no certificate yet.
    type: str
  person:
    description: HSA-id of the person who met the problem.
    type: str
    required: true
  unit:
    description: HSA-id of the care unit (vårdenhet) they were working for.
    type: str
    required: true
  error_text:
    description: The error message exactly as shown, if any.
    type: str
  time:
    description:
      - When it happened, ISO 8601 (C(2026-11-26T10:15:00+01:00) or C(2026-11-26 10:15)).
      - Without an offset the time is read in O(timezone). Default is now.
    type: str
  timezone:
    description: IANA time zone for times without an offset.
    type: str
    default: Europe/Stockholm
  host:
    description: Inventory name of the workstation where it happened.
    type: str
  strict_ids:
    description: Require production-shaped HSA-ids (V(false) for test-environment ids).
    type: bool
    default: true
  readiness:
    description:
      - Readiness data as returned by M(webcert_siths.onboarding.webcert_readiness)
        (its C(readiness) return value).
    type: dict
  readiness_report:
    description: A C(readiness.json) file, used when O(readiness) is not given.
    type: path
  siths_report:
    description: The certificate findings (C(siths.json)) written by C(playbooks/siths.yml).
    type: path
  workstation_report:
    description: The workstation summary (C(workstations.json)).
    type: path
  output_dir:
    description: Folder for the archive and the text file (created when missing).
    type: path
    required: true
  format:
    description: Archive format.
    type: str
    choices: [tar.gz, zip]
    default: tar.gz
  redact_values:
    description: Secret values that must never appear in the bundle (e.g. the bind password).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - webcert_siths.onboarding.language
notes:
  - Check mode checks the inputs and returns the text, but writes nothing.
  - Files are written with mode 0640; they hold one person's name and HSA-id.
  - The archive is reproducible; the module reports C(changed) only when its content differs.
"""

EXAMPLES = r"""
- name: Fault report for a signing error
  webcert_siths.onboarding.webcert_support_bundle:
    intyg_id: 9f1c2d3e-5b6a-4c1d-8e2f-0a1b2c3d4e5f
    person: SE5565594230-P0001
    unit: SE5565594230-1001
    error_text: "Signeringen misslyckades. Försök igen senare."
    time: "2026-11-26 10:15"
    host: pc-norr-01
    readiness_report: reports/readiness.json
    siths_report: reports/siths.json
    workstation_report: reports/workstations.json
    output_dir: reports/support
  register: bundle

- name: Show the text to paste into Inera's form
  ansible.builtin.debug:
    msg: "{{ bundle.text }}"
"""

RETURN = r"""
archive:
  description: Path of the archive (also returned in check mode, where it is not written).
  returned: success
  type: str
  sample: reports/support/webcert-felanmalan-20261126T101500-SE5565594230-P0001.tar.gz
text_file:
  description: Path of the ready-to-paste text (felanmalan.txt next to the archive).
  returned: success
  type: str
text:
  description: The ready-to-paste text.
  returned: success
  type: str
bundle:
  description: The bundle as data (the same as bundle.json in the archive).
  returned: success
  type: dict
  contains:
    report:
      description: C(intyg_id), C(person_hsa_id), C(unit_hsa_id), C(error_text), C(time), C(host).
      type: dict
    person:
      description: The person's readiness entry (role, units, certificates, status, problems).
      type: dict
    unit:
      description: The unit's readiness entry without lists of people.
      type: dict
    certificates:
      description: The person's certificate findings.
      type: dict
    workstation:
      description: The host's client, version, services, readers and problems.
      type: dict
    notes:
      description: What could not be found.
      type: list
      elements: str
errors:
  description: Input problems, each naming the input (the module fails when there are any).
  returned: failure
  type: list
  elements: str
"""

import datetime as dt
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    LANGUAGE_OPTION,
    _,
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.files import (
    write_if_changed,
)

try:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.support_bundle import (
        FORMATS,
        archive_bytes,
        archive_name,
        build_bundle,
        bundle_files,
        check_inputs,
    )

    IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - shown to the user
    IMPORT_ERROR = exc


def argument_spec() -> dict:
    return {
        "intyg_id": {"type": "str"},
        "person": {"type": "str", "required": True},
        "unit": {"type": "str", "required": True},
        "error_text": {"type": "str"},
        "time": {"type": "str"},
        "timezone": {"type": "str", "default": "Europe/Stockholm"},
        "host": {"type": "str"},
        "strict_ids": {"type": "bool", "default": True},
        "readiness": {"type": "dict"},
        "readiness_report": {"type": "path"},
        "siths_report": {"type": "path"},
        "workstation_report": {"type": "path"},
        "output_dir": {"type": "path", "required": True},
        "format": {"type": "str", "choices": ["tar.gz", "zip"], "default": "tar.gz"},
        "redact_values": {"type": "list", "elements": "str", "default": [], "no_log": True},
        "language": dict(LANGUAGE_OPTION),
    }


def read_json(module, path, label):
    if not path or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        module.fail_json(msg=_("%(label)s %(path)s could not be read as JSON: %(error)s",
                               label=label, path=path, error=exc))
    return data if isinstance(data, dict) else None


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if IMPORT_ERROR is not None:
        module.fail_json(msg=f"the toolkit's module_utils could not be imported: {IMPORT_ERROR}")
    with use_language(p["language"]):
        run(module, p)


def run(module, p) -> None:
    now = dt.datetime.now(dt.UTC)
    inputs, errors = check_inputs(p["intyg_id"], p["person"], p["unit"], p["error_text"],
                                  p["time"], p["host"], now, strict_ids=p["strict_ids"],
                                  timezone=p["timezone"])
    if errors:
        module.fail_json(msg=_("The fault report inputs are wrong; nothing was written:") + "\n"
                         + "\n".join(str(e) for e in errors),
                         errors=[str(e) for e in errors])

    readiness = p["readiness"] or read_json(module, p["readiness_report"], "readiness_report")
    certificates = read_json(module, p["siths_report"], "siths_report")
    workstations = read_json(module, p["workstation_report"], "workstation_report")
    created = now.astimezone(inputs.time.tzinfo).replace(microsecond=0).isoformat()
    bundle = build_bundle(inputs, readiness, certificates, workstations, created,
                          secrets=p["redact_values"])
    files = bundle_files(bundle)
    fmt = p["format"] if p["format"] in FORMATS else "tar.gz"
    name = archive_name(bundle, fmt)
    archive = os.path.join(p["output_dir"], name)
    text_file = archive[: -len(fmt) - 1] + ".txt"
    changed = False
    if not module.check_mode:
        os.makedirs(p["output_dir"], exist_ok=True)
        data = archive_bytes(files, fmt, inputs.time, name[: -len(fmt) - 1])
        changed |= write_if_changed(archive, data)
        changed |= write_if_changed(text_file, files["felanmalan.txt"].encode("utf-8"))
    module.exit_json(changed=changed, archive=archive, text_file=text_file,
                     text=files["felanmalan.txt"], bundle=bundle)


if __name__ == "__main__":
    main()
