"""What the playbooks themselves print (assert messages, summary lines), by key.

A playbook prints one of these with the ``webcert_siths.onboarding.message`` filter::

    msg: "{{ 'hsa_check_mode' | webcert_siths.onboarding.message(webcert_language | default('sv')) }}"
    msg: "{{ 'hsa_apply_report' | webcert_siths.onboarding.message(webcert_language | default('sv'),
                                                                   path=result.report_file) }}"

The English text is the gettext msgid (Babel extracts it from here), the Swedish is in
``locale/sv/LC_MESSAGES/webcert.po``. tests/unit/test_playbook_messages.py checks that every
key a playbook or role uses is here, that every key here is used, and that the placeholders
a playbook fills are the ones the message has.
"""

from __future__ import annotations

from .core import N_

MESSAGES = {
    # playbooks/tasks/require_provider_path.yml
    "provider_path_missing": N_(
        "The provider description is not given (hsa_provider_path). Give the YAML file or "
        "folder that describes your care provider, for example -e hsa_provider_path=provider/, "
        "or set hsa_provider_path in your inventory's group_vars (a repository made with "
        "webcert_siths.onboarding.new_provider does that). No playbook falls back to a default "
        "care provider."),
    # roles/hsa_validate
    "validate_ok": N_(
        "%(path)s: the description is valid (care units: %(units)s, people: %(people)s, "
        "commissions: %(commissions)s, warnings: %(warnings)s)"),
    # playbooks/hsa.yml
    "hsa_check_mode": N_("Check mode (--check): nothing was written to HSA."),
    "hsa_matches": N_(
        "HSA already matches the description: everything since the baseline is registered."),
    "hsa_does_not_match": N_(
        "HSA does not match the description yet; the ombud has not registered everything "
        "since the baseline. %(summary)s"),
    "hsa_unmanaged": N_(
        "In HSA but not in the description (left alone; hsa_prune=true would remove them):"),
    "hsa_apply_report": N_("What was written, one line per change (apply report): %(path)s"),
    "hsa_export_files": N_("Files for the HSA agent (ombud):"),
    "hsa_findings": N_("About the provider description:"),
    # playbooks/workstations.yml
    "workstations_batch_stopped": N_(
        "%(failed)s of %(hosts)s PCs failed in this batch (the limit is %(limit)s%%); the "
        "rollout stops here."),
    "workstations_attention": N_(
        "PCs that need attention (see workstations.json): %(hosts)s"),
    "workstations_client_unknown": N_(
        "%(host)s: workstation_client is %(client)s; it must be siths_eid_app, "
        "netid_enterprise or netid_client."),
    "workstations_netid_needs_standard": N_(
        "%(host)s: Net iD for SITHS Admin (workstation_netid_for_siths_admin) needs the SITHS "
        "eID app's standard package (workstation_client siths_eid_app, "
        "siths_eid_app_package_type standard): Inera says the MD package must not be combined "
        "with Net iD."),
    # playbooks/siths.yml
    "siths_inputs_missing": N_(
        "Give the provider description (hsa_provider_path) and the SITHS CA certificates from "
        "Inera (siths_trust_bundle, see docs/siths.md), for example -e "
        "hsa_provider_path=provider/ -e siths_trust_bundle=files/siths-trust/"),
    "siths_report": N_(
        "The whole report: %(path)s (people: %(people)s; certificates that match nobody in "
        "the description: %(unmatched)s)"),
    "siths_blocking": N_(
        "People expected to use Webcert without a valid pair of SITHS certificates "
        "(authentication and signing): %(num)s. See the table above and docs/siths.md."),
    # playbooks/drift.yml
    "drift_trust_missing": N_(
        "Give the SITHS CA certificates from Inera (siths_trust_bundle): a file or folder in "
        "your own repository, see docs/siths.md, for example -e siths_trust_bundle=files/siths-trust/"),
    "drift_details": N_("%(message)s (details: %(path)s)"),
    # playbooks/support_bundle.yml
    "support_ids_missing": N_(
        "Give the HSA-id of the person and of the care unit, for example "
        "-e support_person=SE5599001236-P001 -e support_unit=SE5599001236-E001 (and "
        "support_intyg_id, support_error and support_time when you have them)"),
    "support_directory_unread": N_(
        "HSA could not be read (%(reason)s); the last readiness report is used if there is one: "
        "%(path)s"),
    "support_written": N_("Archive: %(archive)s  Text: %(text)s"),
    "support_check_mode": N_("Check mode (--check): nothing was written."),
    # playbooks/new_provider.yml
    "new_provider_settings": N_(
        "Check the settings: give the folder to create with -e dest=DIR, for example "
        "-e dest=~/src/my-provider (got %(dest)s); org_no must have 10 digits, NNNNNN-NNNN "
        "(got %(org_no)s); inventory_name must be lower-case letters, digits and _ (got "
        "%(inventory)s); hsa_connection must be ombud or directory (got %(mode)s); "
        "webcert_language must be sv or en (got %(lang)s)."),
    "new_provider_repository": N_("Provider repository: %(path)s"),
    "new_provider_written": N_("Written: %(files)s"),
    "new_provider_written_nothing": N_("Written: nothing (every file already exists)"),
    "new_provider_kept": N_("Kept as they were: %(files)s"),
    "new_provider_kept_nothing": N_("Kept as they were: none"),
    "new_provider_next": N_("Next, in that folder: git init; edit provider/, then:"),
    "new_provider_next_placeholders": N_(
        "Next, in that folder: git init; edit provider/ (the name, organisationsnummer and "
        "HSA-ids are placeholders), then:"),
}
