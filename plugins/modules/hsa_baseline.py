#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: plan the HSA changes between a baseline description and the current one,
with no directory connection, and write the change request for the HSA agent (ombud)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hsa_baseline
short_description: Plan HSA changes from a baseline description, without a directory (ombud mode)
description:
  - For care providers whose HSA agent (ombud) registers the changes in HSA Admin. The
    desired state is the description in git, what HSA holds is what the ombud last confirmed,
    the I(baseline).
  - Reads and validates the current description (O(provider_path)) and the baseline
    (O(baseline)) and plans the change between them with the same planner as a directory run
    (objects matched by HSA-id, the same attributes and matching rules). Nothing connects to
    any directory.
  - With O(export_dir), writes the change request for the ombud, C(change-request.md),
    C(change-request.html) and C(change-request.csv) (semicolons, UTF-8 with BOM, so that Excel with
    Swedish settings opens it as it is), plus C(plan.ldif) for an agent whose tools read LDIF.
    The request is grouped per care unit, person and commission, names every object with its
    name and HSA-id, uses HSA Admin's field names, lists only what to add and remove in fields
    with several values, and lists the leavers with what to end.
  - After the ombud confirms, mark the commit the request was made from (for example move the
    git tag used as baseline); the next plan shows only what is still pending.
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
extends_documentation_fragment:
  - webcert_siths.onboarding.language
  - ansible.builtin.action_common_attributes
options:
  provider_path:
    description: The current provider description, a YAML file or a folder of them.
    type: path
    required: true
  baseline:
    description:
      - V(none) (nothing registered yet, everything is new), a folder or file with a
        description, or a git ref of the repository that holds O(provider_path) (for example
        V(hsa-confirmed), V(origin/main), V(HEAD~1)); the description at that ref is read with
        C(git archive), from the same path inside the repository.
    type: str
    required: true
  strict_ids:
    description: Require production-shaped HSA-ids in both descriptions.
    type: bool
    default: true
  base_dn:
    description: Only shapes the directory names in C(plan.ldif) and the lines for IT.
    type: str
    default: c=SE
  export_dir:
    description: Write the change request and C(plan.ldif) to this folder (not in check mode).
    type: path
  requester:
    description: Who asks for the change (shown at the top of the change request).
    type: str
    default: ""
  contact:
    description: Whom the ombud contacts with questions (shown at the top).
    type: str
    default: ""
  date:
    description: The date of the request, YYYY-MM-DD (default today).
    type: str
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the plan is returned and no file is written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
    support: full
notes:
  - Runs on the controller; a git ref as baseline needs C(git).
seealso:
  - module: webcert_siths.onboarding.hsa_reconcile
  - name: HSA without a directory connection
    description: The ombud workflow end to end.
    link: docs/hsa.md
"""

EXAMPLES = r"""
- name: Change request for the HSA agent since what they last confirmed
  webcert_siths.onboarding.hsa_baseline:
    provider_path: provider
    baseline: hsa-confirmed
    export_dir: reports/change-request
    requester: Anna Andersson, IT
    contact: it@example.se
"""

RETURN = r"""
plan:
  description: The plan (operations, counts), as hsa_reconcile returns it.
  returned: always
  type: dict
counts:
  description: Operations per kind (add, modify, modrdn, delete).
  returned: always
  type: dict
  sample: {"add": 2, "modify": 1, "modrdn": 0, "delete": 0}
summary:
  description: One line in O(language) saying how many changes are pending.
  returned: always
  type: str
plan_text:
  description: The plan as a readable diff (per object and attribute, before and after).
  returned: always
  type: str
plan_markdown:
  description: The change request as Markdown (what CI posts on a merge request).
  returned: always
  type: str
baseline:
  description: What the baseline was (ref, commit and date, or folder).
  returned: always
  type: str
note:
  description: A remark about the baseline in O(language) (for example that it was empty).
  returned: when there is one
  type: str
export:
  description: Paths of the files written with O(export_dir).
  returned: with export_dir
  type: dict
findings:
  description: Validation findings (warnings) of the current description.
  returned: always
  type: list
  elements: str
"""

import datetime as dt
import os

from ansible.module_utils.basic import AnsibleModule

try:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.baseline import (
        BaselineError,
        baseline_plan,
        read_baseline,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
        LANGUAGE_OPTION,
        _,
        ngettext,
        use_language,
    )

    IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - shown to the user
    IMPORT_ERROR = exc


def summary_line(total: int, baseline: str) -> str:
    if not total:
        return _("No changes since %(baseline)s: nothing for HSA.", baseline=baseline)
    return ngettext("%(num)s change since %(baseline)s is waiting to be registered in HSA.",
                    "%(num)s changes since %(baseline)s are waiting to be registered in HSA.",
                    total, baseline=baseline)


def run(module: AnsibleModule) -> dict:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
        load_provider,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.change_request import (
        build_change_request,
        render_request_csv,
        render_request_html,
        render_request_markdown,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (
        render_ldif,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_text import (
        render_text,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.files import (
        write_if_changed,
    )

    p = module.params
    loaded = load_provider(p["provider_path"], strict_ids=p["strict_ids"])
    findings = [str(f) for f in loaded.findings]
    if loaded.model is None:
        module.fail_json(msg=ngettext(
            "The provider description has %(num)s error; nothing was written:",
            "The provider description has %(num)s errors; nothing was written:",
            len(loaded.errors)) + "\n" + "\n".join(str(f) for f in loaded.errors),
            findings=findings)
    try:
        baseline = read_baseline(p["baseline"], p["provider_path"], p["strict_ids"])
        plan = baseline_plan(loaded.model, baseline, p["base_dn"])
    except BaselineError as exc:
        module.fail_json(msg=str(exc), findings=findings)
    if plan.errors:
        module.fail_json(msg=_("The plan is refused; nothing was written:") + "\n"
                         + "\n".join(plan.errors), findings=findings)
    day = p["date"] or dt.date.today().isoformat()
    request = build_change_request(plan, loaded.model, baseline.model, {
        "requester": p["requester"], "contact": p["contact"], "date": day,
        "baseline": baseline.label})
    markdown = render_request_markdown(request)
    text = render_text(plan)
    result = {
        "changed": False, "plan": plan.to_dict(), "counts": plan.counts,
        "summary": summary_line(request["total"], baseline.label), "plan_text": text,
        "plan_markdown": markdown, "baseline": baseline.label, "findings": findings,
    }
    if baseline.note:
        result["note"] = baseline.note
    if module._diff and request["total"]:
        result["diff"] = {"prepared": text}
    if p["export_dir"]:
        files = {
            "change-request.md": markdown,
            "change-request.html": render_request_html(request),
            "change-request.csv": render_request_csv(request),
            "plan.ldif": render_ldif(plan),
        }
        result["export"] = {n: os.path.join(p["export_dir"], n) for n in files}
        if not module.check_mode:
            written = [n for n, data in files.items()
                       if write_if_changed(os.path.join(p["export_dir"], n), data, mode=0o600)]
            result["changed"] = bool(written)
        else:
            result["changed"] = bool(request["total"])
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "provider_path": {"type": "path", "required": True},
            "baseline": {"type": "str", "required": True},
            "strict_ids": {"type": "bool", "default": True},
            "base_dn": {"type": "str", "default": "c=SE"},
            "export_dir": {"type": "path"},
            "requester": {"type": "str", "default": ""},
            "contact": {"type": "str", "default": ""},
            "date": {"type": "str"},
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
