"""The words the reader knows: one list for the output, the catalog and docs/glossary.md.

Each term is the English word (a gettext msgid, so the Swedish comes from the catalog),
where HSA keeps it (the attribute or object class, for IT) and the field of the provider
YAML. ``tools/i18n_build.py`` writes the table in docs/glossary.md from this list; a test
fails when that file is not current.
"""

from __future__ import annotations

from .core import N_

# (English term, HSA attribute / object class, provider YAML field)
TERMS = (
    (N_("care provider"), "o (organization + hsaHealthCareProvider)", "provider"),
    (N_("organisation number"), "orgNo", "provider.org_no"),
    (N_("care unit"), "ou (organizationalUnit + hsaHealthCareUnit)", "units"),
    (N_("workplace code"), "unitPrescriptionCode", "units[].workplace_codes"),
    (N_("e-mail address of the care unit"), "mail", "units[].email"),
    (N_("HSA-id"), "hsaIdentity", "hsa_id"),
    (N_("commission"), "hsaCommission (object)", "commissions"),
    (N_("purpose of the commission"), "hsaCommissionPurpose", "commissions[].purpose"),
    (N_("Care and treatment"), "hsaCommissionPurpose = \"Vård och behandling\"",
     "commissions[].purpose"),
    (N_("members of the commission"), "hsaCommissionMember", "commissions[].members"),
    (N_("commission valid until"), "hsaEndDate", "commissions[].valid_to"),
    (N_("licensed profession"), "hsaTitle", "people[].titles"),
    (N_("position (position code)"), "paTitleCode", "people[].positions"),
    (N_("prescriber code"), "personalPrescriptionCode", "people[].prescriber_code"),
    (N_("group prescriber code"), "hsaGroupPrescriptionCode", "people[].group_prescriber_codes"),
    (N_("doctor"), "hsaTitle = Läkare", "people[].expected_role: LAKARE"),
    (N_("nurse"), "hsaTitle = Sjuksköterska", "people[].expected_role: SJUKSKOTERSKA"),
    (N_("SITHS card"), "userCertificate;binary", "—"),
    (N_("e-service card"), "userCertificate;binary", "—"),
    (N_("Net iD (card reader software)"), "—", "netid_* (workstations)"),
    (N_("SITHS eID app"), "—", "siths_eid_app_* (workstations)"),
    (N_("HSA agent"), "—", "—"),
    (N_("readiness for Webcert"), "—", "playbooks/readiness.yml"),
)
