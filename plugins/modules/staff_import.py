#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: merge a staff list (CSV/XLSX) into the provider description."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: staff_import
short_description: Merge a staff list (CSV or Excel) into the provider description
description:
  - Reads a staff list exported from an HR or scheduling system (C(.csv) with the C(csv)
    module, C(.xlsx) with openpyxl) and a small YAML mapping that says which column holds
    what, and merges it into the provider description as a change to review with C(git diff).
  - New people are added to the file of their care unit and made members (medarbetare) of the
    unit's commission with the purpose "Vård och behandling". Changed fields are updated.
    People whose end date (slutdatum) has passed are marked C(uses_webcert false) and removed
    from every commission's members, with a comment. Nobody is ever deleted; people in the
    description but not in the list are only reported.
  - Every row that cannot be used is reported with the file, its row number, the column (as the
    list's header has it) and the value, and skipped. Input that cannot be used at all (a
    missing file or column, a wrong mapping) stops the module with a message naming the file,
    row and field, and nothing is written.
  - The YAML is edited in round-trip mode (ruamel.yaml), so comments and layout stay. The result
    is validated before anything is written; with errors nothing is written.
  - Messages, the comments written into the YAML and RV(messages) are in O(language) (Swedish by
    default).
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
extends_documentation_fragment:
  - webcert_siths.onboarding.language
  - ansible.builtin.action_common_attributes
options:
  staff_file:
    description: The staff list, C(.csv) (delimiter C(;) or C(,), UTF-8 or Windows-1252) or C(.xlsx).
    type: path
    required: true
  mapping_file:
    description:
      - YAML with C(columns) (field to column header; fields hsa_id, given_name, surname, unit
        required; titles, prescriber_code, group_prescriber_codes, position, position_code, mail,
        start, end optional), and optionally C(sheet), C(delimiter), C(list_separator).
    type: path
    required: true
  provider_path:
    description: The provider description to merge into (a YAML file or folder).
    type: path
    required: true
  strict_ids:
    description: Require production-shaped HSA-ids.
    type: bool
    default: true
  today:
    description: Judge end dates as on this day, YYYY-MM-DD (default today).
    type: str
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Merge the staff list into the description
  webcert_siths.onboarding.staff_import:
    staff_file: personal.xlsx
    mapping_file: staff-mapping.yml
    provider_path: provider
"""

RETURN = r"""
summary:
  description: One line in O(language) with the counts of what the merge did.
  returned: always
  type: str
  sample: "personal.xlsx: 2 tillagda, 1 ändrade, 1 som slutat, 1 överhoppade rader, 2 ändrade filer."
counts:
  description: Counts of what the merge did.
  returned: always
  type: dict
  sample: {"added": 2, "updated": 1, "leavers": 1, "leaving_later": 0, "not_in_list": 3,
           "rows_skipped": 1, "files_changed": 2}
messages:
  description:
    - What the merge did, one line each, in O(language), for the playbook to show (the summary,
      who was added, updated and marked as leaver, the rows skipped, the files changed).
  returned: always
  type: list
  elements: str
added:
  description: People added (row, hsa_id, name, unit, unit_name, file, commission).
  returned: always
  type: list
  elements: dict
updated:
  description: People whose fields were updated (row, hsa_id, fields).
  returned: always
  type: list
  elements: dict
leavers:
  description: People marked as leavers (row, hsa_id, name, end, commissions).
  returned: always
  type: list
  elements: dict
not_in_list:
  description: People of the listed care units who are in the description but not in the list (not changed).
  returned: always
  type: list
  elements: dict
skipped_rows:
  description: Every row that could not be used, with file, row number, column, value and why, in O(language).
  returned: always
  type: list
  elements: str
files:
  description: The files changed (relative to the description folder).
  returned: always
  type: list
  elements: str
"""

import datetime as dt
import difflib
import os

from ansible.module_utils.basic import AnsibleModule

try:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.staff import (
        StaffError,
        merge_staff,
        read_mapping,
        read_staff,
        validate_merged,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
        LANGUAGE_OPTION,
        _,
        use_language,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.files import (
        write_atomic,
    )

    IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - shown to the user
    IMPORT_ERROR = exc


def run(module: AnsibleModule) -> dict:
    p = module.params
    for key, example in (("staff_file", "-e staff_file=personal.xlsx"),
                         ("mapping_file", "-e staff_mapping=staff-mapping.yml")):
        if not (p[key] or "").strip() or os.path.isdir(p[key]):
            module.fail_json(msg=_(
                "Give the staff list and the mapping of its columns, for example "
                "%(example)s (docs/getting-started.md shows a mapping). For IT: %(option)s is "
                "empty or a folder.", example=example, option=key))
    try:
        today = dt.date.fromisoformat(p["today"]) if p["today"] else None
    except ValueError:
        module.fail_json(msg=_("today: %(value)s is not a date (write it as YYYY-MM-DD)",
                               value=repr(p["today"])))
    source = os.path.basename(p["staff_file"])
    try:
        mapping = read_mapping(p["mapping_file"])
        rows, problems = read_staff(p["staff_file"], mapping, p["strict_ids"])
        result = merge_staff(p["provider_path"], rows, today=today, strict_ids=p["strict_ids"],
                             source=source)
    except StaffError as exc:
        module.fail_json(msg=_("%(error)s; nothing was written", error=exc))
    result.problems[:0] = problems
    result.problems.sort(key=lambda x: x.row)
    if result.files:
        check = validate_merged(p["provider_path"], result.files, p["strict_ids"])
        if check.model is None:
            module.fail_json(
                msg=_("the description would not be valid after the merge; nothing was "
                      "written:") + "\n" + "\n".join(str(f) for f in check.errors),
                skipped_rows=[str(x) for x in result.problems])
    base = p["provider_path"] if os.path.isdir(p["provider_path"]) else os.path.dirname(
        p["provider_path"])
    diffs = []
    for rel, text in sorted(result.files.items()):
        path = os.path.join(base, rel)
        with open(path, encoding="utf-8-sig") as fh:
            before = fh.read()
        diffs.append({"before_header": rel, "after_header": rel,
                      "before": before, "after": text})
        if not module.check_mode:
            write_atomic(path, text, mode=os.stat(path).st_mode & 0o777)
    messages = result.messages(source, written=not module.check_mode)
    out = {
        "changed": bool(result.files), "summary": messages[0], "counts": result.summary(),
        "messages": messages, "added": result.added,
        "updated": result.updated, "leavers": result.leavers, "leaving_later": result.leaving,
        "not_in_list": result.not_in_list,
        "skipped_rows": [str(x) for x in result.problems], "files": sorted(result.files),
    }
    if module._diff and diffs:
        out["diff"] = diffs
    out["diff_text"] = "".join(
        "".join(difflib.unified_diff(d["before"].splitlines(True), d["after"].splitlines(True),
                                     d["before_header"], d["after_header"])) for d in diffs)
    return out


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "staff_file": {"type": "path", "required": True},
            "mapping_file": {"type": "path", "required": True},
            "provider_path": {"type": "path", "required": True},
            "strict_ids": {"type": "bool", "default": True},
            "today": {"type": "str"},
            "language": dict(LANGUAGE_OPTION) if IMPORT_ERROR is None else {"type": "str"},
        },
        supports_check_mode=True,
    )
    if IMPORT_ERROR is not None:
        module.fail_json(msg=f"the toolkit's module_utils could not be imported: {IMPORT_ERROR}")
    with use_language(module.params["language"]):
        module.exit_json(**run(module))


if __name__ == "__main__":
    main()
