#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: write the YAML description of what is already in HSA."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hsa_import
short_description: Import a care provider that is already in HSA into the YAML description
description:
  - Reads the care provider's subtree, from the directory (one paged search below O(base_dn),
    the same connection options as hsa_reconcile) or from an LDIF export (O(ldif), for a
    provider whose HSA agent can send one), and writes the description in the documented
    layout into O(dest), which must not hold YAML files yet. C(provider.yml) holds the care
    provider (and people directly under it), C(units/<name>.yml) one care unit each with its
    commissions and people.
  - The round trip is exact. Planning the written description against the same directory
    (hsa.yml --check) reports no changes.
  - Values the description does not manage (other attributes on the entries, a C(cn) that is
    not the full name, a time of day on a commission date) are written as comments above the
    object; a commission directly under the care provider is written commented out.
  - The files are written all at once (a temporary folder, then moved in). The written
    description is validated and the findings returned; they are what HSA holds today, to be
    fixed in the YAML.
  - The comments written into the files, the messages and RV(messages) are in O(language)
    (Swedish by default); attribute names and values stay as HSA has them.
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
extends_documentation_fragment:
  - webcert_siths.onboarding.hsa_ldap
  - webcert_siths.onboarding.language
  - ansible.builtin.action_common_attributes
options:
  dest:
    description:
      - The folder to write the description into (created; no YAML files in it yet).
      - Empty stops the module with a message that says how to give it.
    type: path
    required: true
  ldif:
    description:
      - Read this LDIF file (content records, as C(ldapsearch -LLL) writes them) instead of
        the directory. Certificates (C(userCertificate)) are left out.
    type: path
  strict_ids:
    description: Validate the written description with production-shaped HSA-ids.
    type: bool
    default: true
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode nothing is written; the files that would be written are returned.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
    support: none
notes:
  - Without O(ldif), O(uri) and O(base_dn) are required (or the HSA_LDAP_* environment).
seealso:
  - module: webcert_siths.onboarding.hsa_reconcile
"""

EXAMPLES = r"""
- name: Import the provider from the LDIF export the HSA agent sent
  webcert_siths.onboarding.hsa_import:
    ldif: export.ldif
    dest: provider
"""

RETURN = r"""
files:
  description: The files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
summary:
  description: One line in O(language) saying what was written (or would be, in check mode).
  returned: always
  type: str
  sample: "Skrev 5 filer till /srv/hsa/provider: vårdenheter 4, personer 15, medarbetaruppdrag 4."
counts:
  description: Units, people and commissions imported (empty in check mode).
  returned: always
  type: dict
  sample: {"units": 4, "people": 15, "commissions": 4}
messages:
  description:
    - What to show, one line each, in O(language) (the summary, the next step, the validation
      findings of what HSA holds today).
  returned: always
  type: list
  elements: str
findings:
  description: Validation findings of the written description (what HSA holds today).
  returned: always
  type: list
  elements: str
"""

import contextlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.module_args import (
    LDAP_ARGUMENT_SPEC,
    ldap_settings,
)

try:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapConfigError,
        LdapConnectError,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.importer import (
        DescriptionImportError,
        entries_from_ldif,
        render_description,
        write_description,
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


def read_directory(module) -> tuple[list, str]:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        connect,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
        read_entries,
    )

    settings = ldap_settings(module)
    conn = connect(settings)
    try:
        # every user attribute, so that what the description does not manage is shown
        return read_entries(conn, settings.base_dn, attributes=["*"]), settings.uri
    finally:
        with contextlib.suppress(Exception):  # closing a connection that is done
            conn.unbind()


def summary_line(count: int, dest: str, counts: dict, written: bool) -> str:
    if not written:
        return ngettext("Would write %(num)s file to %(dest)s (check mode, nothing written).",
                        "Would write %(num)s files to %(dest)s (check mode, nothing written).",
                        count, dest=dest)
    if not counts:
        return ngettext("Wrote %(num)s file to %(dest)s.", "Wrote %(num)s files to %(dest)s.",
                        count, dest=dest)
    return ngettext(
        "Wrote %(num)s file to %(dest)s: care units %(units)s, people %(people)s, "
        "commissions %(commissions)s.",
        "Wrote %(num)s files to %(dest)s: care units %(units)s, people %(people)s, "
        "commissions %(commissions)s.", count, dest=dest, **counts)


def run(module: AnsibleModule) -> dict:
    p = module.params
    if not (p["dest"] or "").strip():
        module.fail_json(msg=_(
            "Give the folder to write the description into, for example "
            "-e hsa_import_dest=provider (it must not hold YAML files yet). For IT: "
            "hsa_import_dest is not set."))
    try:
        if p["ldif"]:
            try:
                with open(p["ldif"], "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                module.fail_json(msg=_("%(file)s: cannot read the LDIF file (%(error)s); "
                                       "nothing was written", file=p["ldif"],
                                       error=exc.strerror))
            source = os.path.basename(p["ldif"])
            entries = entries_from_ldif(data, source)
        else:
            entries, source = read_directory(module)
        files = render_description(entries, source)
        dest = os.path.abspath(p["dest"])
        paths = sorted(os.path.join(dest, rel) for rel in files)
        if not module.check_mode:
            paths = write_description(files, dest)
    except (DescriptionImportError, LdapConfigError, LdapConnectError) as exc:
        module.fail_json(msg=_("%(error)s; nothing was written", error=exc))
    findings, counts = [], {}
    if not module.check_mode:
        from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
            load_provider,
        )

        loaded = load_provider(dest, strict_ids=p["strict_ids"])
        findings = [str(f) for f in loaded.findings]
        if loaded.model is not None:
            m = loaded.model
            counts = {"units": len(m.units), "people": len(m.people),
                      "commissions": len(m.commissions)}
    summary = summary_line(len(paths), dest, counts, not module.check_mode)
    messages = [summary]
    if not module.check_mode:
        messages.append(_("Next: review the files, commit them, and plan them against the same "
                          "directory (hsa.yml --check): it must report no changes."))
    if findings:
        messages.append(ngettext(
            "The validation objects to %(num)s thing that HSA holds today; fix it in the YAML:",
            "The validation objects to %(num)s things that HSA holds today; fix them in the "
            "YAML:", len(findings)))
        messages.extend(f"  {f}" for f in findings)
    return {"changed": True, "files": paths, "summary": summary, "counts": counts,
            "messages": messages, "findings": findings}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **LDAP_ARGUMENT_SPEC,
            "dest": {"type": "path", "required": True},
            "ldif": {"type": "path"},
            "strict_ids": {"type": "bool", "default": True},
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
