#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: bring the care provider's part of an HSA directory to its YAML description."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hsa_reconcile
short_description: Plan, apply or export the HSA directory entries a care provider describes
description:
  - Reads the provider description (YAML, see docs/provider-yaml.md) and validates it; any
    validation error stops the module before it connects to the directory.
  - Reads the actual state below O(base_dn) with one connection and one paged subtree search,
    asking only for the attributes it manages, and matches objects by C(hsaIdentity) (never by DN).
    Every read and write goes through python-ldap (OpenLDAP's libldap, as C(ldapsearch) uses).
  - Builds an ordered plan (add, modify, modrdn, delete) and applies it on one connection,
    or only reports it (check mode), or writes it as an LDIF change file plus a change request
    for the HSA agent (ombud) (O(export_dir)).
  - Keeps the validated description in a cache on the control node (O(cache)), so that a
    plan whose description did not change does not read and validate the YAML again. The
    directory is read, decoded and compared on every run.
  - Modifications delete the old values and add the new ones (never a blind replace), so a value
    someone else changed since the read makes that operation fail; the module reports the
    conflict instead of overwriting it.
  - Only the managed attributes are touched; other attributes on the same entries are left alone.
    Entries that are not in the description are reported as unmanaged and left alone unless
    O(prune=true).
  - The directory layout and the attribute mapping are described in docs/hsa.md.
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
      - Require production-shaped HSA-ids (C(SE) + organisation number + C(-) + characters).
      - Set to V(false) for test-environment ids such as C(TSTNMT2321000156-DRAA).
    type: bool
    default: true
  follow_symlinks:
    description:
      - Follow symbolic links in the description that resolve outside it, but only into
        O(symlink_roots). Off by default, and then such a link is refused by name and never
        read.
    type: bool
    default: false
  symlink_roots:
    description: Folders links may point into when O(follow_symlinks=true).
    type: list
    elements: path
    default: []
  prune:
    description:
      - Delete entries with an C(hsaIdentity) inside the provider's subtree that the description
        does not list. Off by default, and then such entries are only reported as unmanaged.
      - An empty description (no units, people or commissions) never deletes anything.
    type: bool
    default: false
  max_deletes:
    description: Refuse to run when pruning would delete more entries than this.
    type: int
    default: 10
  export_dir:
    description:
      - Do not write to the directory; write the change request for the HSA agent (ombud) to
        this folder, in O(language), as the ombud mode (M(webcert_siths.onboarding.hsa_baseline))
        writes it, C(change-request.md), C(change-request.html) and C(change-request.csv)
        (semicolons, UTF-8 with BOM, so that Excel with Swedish settings opens it in columns),
        grouped per care provider, care unit, person and commission, each named with its name
        and HSA-id, fields in HSA Admin's words, the LDAP details in a line for IT; and
        C(plan.ldif), the same changes as an LDIF change file.
      - A file is rewritten only when its content changes (mode 0600).
    type: path
  backup_file:
    description:
      - Before applying, write the current state of every entry below O(base_dn) (all user
        attributes) as LDIF to this file, for a manual rollback.
    type: path
  retries:
    description: How often a transient error (busy, unavailable, dropped connection) is retried.
    type: int
    default: 3
  report_file:
    description:
      - The apply report, JSON lines (one object a line), appended to on every run that sends
        operations; check mode and O(export_dir) never write it. Created with mode 0600.
      - A C(start) line (time, base DN, server, bind identity, operation counts; never the
        password), C(sent) lines (operations numbered from 1 that were sent), one line per
        operation as its answer arrives (C(status) applied, conflict or failed), and an
        C(end) line (complete, stopped, or "interrupted after N of M operations", with the
        operations not applied and those in flight).
      - The lines are written as the apply goes, so when Ctrl-C (SIGINT) or SIGTERM stops the
        run, or even when the process is killed before the C(end) line, the file says what
        was applied. See docs/hsa.md.
    type: path
  requester:
    description: Who asks for the change (shown at the top of the change request, O(export_dir)).
    type: str
    default: ""
  contact:
    description: Whom the HSA agent (ombud) contacts with questions (shown at the top).
    type: str
    default: ""
  date:
    description: The date of the change request, YYYY-MM-DD (default today).
    type: str
  plan_file:
    description:
      - Write the whole plan as text (as RV(plan_text) has it, in O(language)) to this file
        before anything is applied; its folder is created when missing. Written in check
        mode too, as it is a report, not a change.
    type: path
  plan_markdown_file:
    description:
      - Write the plan as a Markdown change request (per object, HSA Admin's field names,
        in O(language)) to this file, e.g. for a merge request comment or a CI job
        summary. Written in check mode too.
    type: path
  plan_lines:
    description:
      - At most this many lines of the plan in RV(plan_text), then one line saying how many
        more there are and, with O(plan_file), where they are ("... och 12 rader till, se
        reports/hsa-plan.txt"). V(0) leaves RV(plan_text) out. Unset keeps the whole plan.
    type: int
  plan_operations:
    description:
      - Return the plan as data (RV(plan), every operation with its attributes).
      - V(false) keeps a large plan out of the result, so that it does not travel through
        Ansible (serialised, templated, kept in memory); RV(counts), RV(summary) and the
        files above still say everything.
    type: bool
    default: true
  cache:
    description:
      - Keep the validated description in O(cache_dir) (the description cache), keyed by a
        digest of every description file's bytes, the options and the toolkit version; it
        is used again only while all of these are the same. The directory is never cached.
        See docs/hsa.md.
      - V(false) reads and validates the description on every run. Turning it off, or
        deleting the folder, never changes a plan, only its speed.
    type: bool
    default: true
  cache_dir:
    description:
      - The cache folder on the host that runs the module (the control node, as the playbooks
        run it on localhost). Created with mode 0700, files 0600; a folder or file another
        user owns or can write is not used.
      - Default C($HSA_CACHE_DIR), else C($XDG_CACHE_HOME/webcert-siths-toolkit), else
        C(~/.cache/webcert-siths-toolkit).
    type: path
extends_documentation_fragment:
  - webcert_siths.onboarding.hsa_ldap
  - webcert_siths.onboarding.language
notes:
  - Check mode reads the directory and reports the plan; nothing is written to the directory
    and no apply report or export file is written (only O(plan_file) and
    O(plan_markdown_file), which describe the plan). The description cache (O(cache)) on the control node
    may be refreshed, as fact caching would be.
  - Continuation references (the server refers part of the tree to another server) are never
    followed. They are returned in C(referrals) and as warnings, and every planned operation
    at or below a referred entry is refused (C(refused)); the rest of the plan is applied,
    exported or shown as the mode says, and the task then fails naming the referral.
  - Diff mode shows the plan per object and attribute, before and after.
  - Needs the Python package python-ldap on the controller.
requirements:
  - python-ldap
"""

EXAMPLES = r"""
- name: Bring HSA in line with the provider description
  webcert_siths.onboarding.hsa_reconcile:
    provider_path: "{{ inventory_dir }}/provider"
    uri: ldaps://hsa.region.example.se
    bind_dn: cn=hsa-sync,ou=System,c=SE
    bind_password: "{{ vault_hsa_bind_password }}"
    base_dn: c=SE
    ca_file: /etc/pki/siths-root.pem
  register: hsa

- name: Authenticate with a SITHS function certificate instead of a password
  webcert_siths.onboarding.hsa_reconcile:
    provider_path: provider/
    uri: ldaps://hsa.region.example.se
    base_dn: c=SE
    client_cert: /etc/pki/hsa-sync.pem
    client_key: /etc/pki/hsa-sync.key

- name: Only prepare the change for the HSA agent (ombud)
  webcert_siths.onboarding.hsa_reconcile:
    provider_path: provider/
    export_dir: reports/hsa-change

- name: Remove people who left (at most 25 entries)
  webcert_siths.onboarding.hsa_reconcile:
    provider_path: provider/
    prune: true
    max_deletes: 25
    backup_file: reports/hsa-before.ldif

- name: Apply and keep a report of every operation (survives Ctrl-C)
  webcert_siths.onboarding.hsa_reconcile:
    provider_path: provider/
    report_file: "{{ 'reports/hsa-apply.jsonl' | ansible.builtin.realpath }}"
"""

RETURN = r"""
counts:
  description: Number of planned operations per type.
  returned: when the directory was read
  type: dict
  sample: {"add": 3, "modify": 1, "modrdn": 0, "delete": 0}
summary:
  description: One line in O(language) that sums up the plan.
  returned: when the directory was read
  type: str
  sample: "Plan: 3 to add, 1 to modify, 0 to move or rename, 0 to delete; 0 unmanaged entries."
plan_text:
  description:
    - The plan as readable text in O(language), per object and attribute, before → after.
    - Attribute names, values and DNs are shown as the directory has them (for IT).
    - With O(plan_lines), only that many lines and a line saying how many more there are.
  returned: when the directory was read, unless O(plan_lines=0)
  type: str
plan:
  description: The plan as data.
  returned: when the directory was read and O(plan_operations=true)
  type: dict
  contains:
    counts:
      description: Operations per type.
      type: dict
    operations:
      description:
        - Ordered operations. Each has C(op) (add, modify, modrdn, delete), C(kind) (provider,
          unit, person, commission), C(hsa_id), C(dn); adds have C(attributes), modifies
          C(changes) (attribute, before, after, delete, add), modrdns C(new_rdn),
          C(new_superior) and C(new_dn).
      type: list
      elements: dict
    unmanaged:
      description: Entries with an hsaIdentity that the description does not list.
      type: list
      elements: dict
    foreign_entries:
      description: Number of entries below the base DN without an hsaIdentity (never touched).
      type: int
    errors:
      description: Reasons the plan was refused (nothing was written).
      type: list
      elements: str
    warnings:
      description: Things the operator should know (e.g. entries kept because others sit below).
      type: list
      elements: str
unmanaged:
  description: Entries with an hsaIdentity not in the description, and what was done with them.
  returned: when the directory was read
  type: list
  elements: dict
  sample: [{"dn": "hsaIdentity=SE5565594230-P9,ou=Norr,o=Vårdbolaget,c=SE",
            "hsa_id": "SE5565594230-P9", "kind": "person", "action": "kept"}]
apply:
  description: What the apply did; present when operations were sent.
  returned: when applying
  type: dict
  contains:
    applied:
      description: Number of operations applied.
      type: int
    failed:
      description: The operation that stopped the run (status conflict or failed), or null.
      type: dict
    not_applied:
      description: Number of operations not sent because the run stopped.
      type: int
    retries:
      description: Number of retries after transient errors.
      type: int
    interrupted:
      description: True when Ctrl-C (SIGINT) or SIGTERM stopped the apply.
      type: bool
    in_flight:
      description: Operations sent without an answer when the run was interrupted or the
        connection was lost (they may or may not have been applied).
      type: list
      elements: dict
report_file:
  description: The apply report written during this run (see O(report_file)).
  returned: when operations were sent and report_file is set
  type: str
referrals:
  description: Parts of the tree the server refers to another server (C(dn) of the referral
    entry, null when the server would not say, and its C(urls)).
  returned: when the read met continuation references
  type: list
  elements: dict
refused:
  description: Planned operations refused because they are at or below a referral (C(op),
    C(kind), C(hsa_id), C(dn), C(message)); nothing was sent for them.
  returned: when operations were refused
  type: list
  elements: dict
export:
  description: Paths of the files written with O(export_dir).
  returned: with export_dir
  type: dict
  sample: {"change-request.md": "reports/hsa/change-request.md",
           "change-request.html": "reports/hsa/change-request.html",
           "change-request.csv": "reports/hsa/change-request.csv",
           "plan.ldif": "reports/hsa/plan.ldif"}
backup_file:
  description: The LDIF backup written before the apply.
  returned: when backup_file is set and something was applied
  type: str
findings:
  description: >-
    Validation findings of the description (errors stop the module): at most 50, each
    labelled FEL or VARNING, and one line with how many more there are.
  returned: always
  type: list
  elements: str
cache:
  description: How the description cache was used (absent with O(cache=false)).
  returned: when O(cache=true)
  type: dict
  contains:
    description:
      description: C(hit) when the validated description came from the cache, else C(miss).
      type: str
  sample: {"description": "hit"}
"""

import datetime as dt
import gc

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.description_cache import (
    CachedDescription,
    DescriptionCache,
    default_cache_dir,
)
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
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LDAP_IMPORT_ERROR,
        LdapConfigError,
        LdapConnectError,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
        PlanFileError,
        PlanOutput,
        reconcile,
    )

    IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - shown to the user
    IMPORT_ERROR = exc


def argument_spec() -> dict:
    return {
        **LDAP_ARGUMENT_SPEC,
        "provider_path": {"type": "path", "required": True},
        "strict_ids": {"type": "bool", "default": True},
        "follow_symlinks": {"type": "bool", "default": False},
        "symlink_roots": {"type": "list", "elements": "path", "default": []},
        "prune": {"type": "bool", "default": False},
        "max_deletes": {"type": "int", "default": 10},
        "export_dir": {"type": "path"},
        "backup_file": {"type": "path"},
        "retries": {"type": "int", "default": 3},
        "report_file": {"type": "path"},
        "requester": {"type": "str", "default": ""},
        "contact": {"type": "str", "default": ""},
        "date": {"type": "str"},
        "plan_file": {"type": "path"},
        "plan_markdown_file": {"type": "path"},
        "plan_lines": {"type": "int"},
        "plan_operations": {"type": "bool", "default": True},
        "cache": {"type": "bool", "default": True},
        "cache_dir": {"type": "path"},
        "language": dict(LANGUAGE_OPTION),
    }


def prepare(p: dict, base_dn: str | None, cache):
    """The description: from the cache when it is unchanged, else read and validated
    (and then cached). Returns (prepared description or None, model or None, findings,
    errors); ``model`` is set when the description was read now."""
    path = p["provider_path"]
    if cache is not None and base_dn:
        cached = cache.load(path, base_dn, p["strict_ids"], p["follow_symlinks"],
                            p["symlink_roots"], p.get("language"))
        if cached is not None:
            return cached, None, cached.findings, []
    # The YAML reader and validator are imported only when the cache cannot answer.
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
        load_provider,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.presentation import (
        terminal_view,
    )

    with use_language(p.get("language")):  # findings in the user's language (cached per language)
        loaded = load_provider(path, strict_ids=p["strict_ids"],
                               follow_symlinks=p["follow_symlinks"],
                               symlink_roots=p["symlink_roots"])
        view = terminal_view(loaded)  # at most 50 lines, labelled, "… och N fel till"
        head = ngettext(
            "The provider description has %(num)s error; nothing was written to HSA:",
            "The provider description has %(num)s errors; nothing was written to HSA:",
            loaded.count("error"))
    more = [view["more"]] if view["more"] else []
    findings = view["errors"] + view["warnings"] + more
    errors = []
    if loaded.errors:
        errors = [head, *view["errors"], *more]
    if errors or loaded.model is None or cache is None or not base_dn:
        return None, loaded.model, findings, errors
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
        desired_entries,
    )

    desired = desired_entries(loaded.model, base_dn)
    if desired.errors:  # reconcile reports them
        return None, loaded.model, findings, []
    provider = loaded.model.provider
    prepared = CachedDescription(findings, provider.name, provider.hsa_id, desired.entries)
    cache.store(path, base_dn, p["strict_ids"], prepared, loaded.source_digest,
                p["follow_symlinks"], p["symlink_roots"], p.get("language"))
    return prepared, loaded.model, findings, []


def main() -> None:
    # A short-lived process that builds many small objects and no reference cycles worth
    # collecting: the cyclic GC only costs time here (about a fifth of a 10,000-person run).
    gc.disable()
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if IMPORT_ERROR is not None:
        module.fail_json(msg=f"the toolkit's module_utils could not be imported: {IMPORT_ERROR}")
    if LDAP_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("python-ldap"), exception=LDAP_IMPORT_ERROR)
    if p["max_deletes"] < 0:
        module.fail_json(msg="max_deletes must be 0 or more")
    if p["plan_lines"] is not None and p["plan_lines"] < 0:
        module.fail_json(msg="plan_lines must be 0 or more")

    try:
        with use_language(p["language"]):  # a settings error in the reader's language
            settings, settings_error = ldap_settings(module), None
    except LdapConfigError as exc:
        settings, settings_error = None, exc
    cache = DescriptionCache(p["cache_dir"] or default_cache_dir()) if p["cache"] else None
    prepared, model, findings, errors = prepare(
        p, settings.base_dn if settings else None, cache)
    if errors or (prepared is None and model is None):
        with use_language(p["language"]):
            unread = _("The provider description could not be read; nothing was written to HSA.")
        module.fail_json(msg="\n".join(errors) or unread, findings=findings, changed=False)
    if settings_error is not None:
        module.fail_json(msg=str(settings_error), findings=findings, changed=False)

    try:
        with use_language(p["language"]):  # the plan text and its summary line
            result = reconcile(
                model, settings, prune=p["prune"], max_deletes=p["max_deletes"],
                check_mode=module.check_mode, export_dir=p["export_dir"],
                backup_file=p["backup_file"], retries=p["retries"], report_file=p["report_file"],
                prepared=prepared, output=PlanOutput(
                    text_file=p["plan_file"], markdown_file=p["plan_markdown_file"],
                    lines=p["plan_lines"], operations=p["plan_operations"]),
                request_meta={"requester": p["requester"], "contact": p["contact"],
                              "date": p["date"] or dt.date.today().isoformat()})
    except (LdapConfigError, LdapConnectError) as exc:
        module.fail_json(msg=str(exc), findings=findings, changed=False)
    except PlanFileError as exc:  # before anything was applied or exported
        module.fail_json(msg=str(exc), findings=findings, changed=False)

    result["findings"] = findings
    if cache is not None:
        result["cache"] = {"description": "hit" if model is None else "miss"}
        for warning in cache.warnings:
            module.warn(warning)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if module._diff and result.get("plan_text") and result["counts"] and any(
            result["counts"].values()):
        result["diff"] = {"prepared": result["plan_text"]}
    failed = result.pop("failed", False)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
