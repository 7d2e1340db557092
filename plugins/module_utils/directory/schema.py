"""The directory schema as the toolkit manages it: kinds of entry, their object classes,
the attributes managed per kind, and how the server compares values (light: no model,
no I/O, imported by the plan's fast path)."""

from __future__ import annotations

KINDS = ("provider", "unit", "person", "commission")

OBJECT_CLASSES = {
    "provider": ("top", "organization", "hsaHealthCareProvider"),
    "unit": ("top", "organizationalUnit", "hsaHealthCareUnit"),
    "person": ("top", "person", "organizationalPerson", "inetOrgPerson", "hsaPersonExtension"),
    "commission": ("top", "hsaCommission"),
}
# The class that tells what kind an entry is when it is read back.
KIND_CLASS = {
    "provider": "hsaHealthCareProvider",
    "unit": "hsaHealthCareUnit",
    "person": "hsaPersonExtension",
    "commission": "hsaCommission",
}
RDN_ATTRIBUTE = {"provider": "o", "unit": "ou", "person": "hsaIdentity", "commission": "cn"}

MANAGED = {
    "provider": ("hsaIdentity", "o", "orgNo"),
    "unit": (
        "hsaIdentity",
        "ou",
        "mail",
        "unitPrescriptionCode",
        "hsaResponsibleHealthCareProvider",
        "hsaHealthCareUnitMember",
    ),
    "person": (
        "hsaIdentity",
        "givenName",
        "sn",
        "cn",
        "fullName",
        "hsaTitle",
        "personalPrescriptionCode",
        "hsaGroupPrescriptionCode",
        "hsaSosTitleCodeSpeciality",
        "paTitleCode",
        "paTitleName",
        "mail",
    ),
    "commission": (
        "hsaIdentity",
        "cn",
        "hsaCommissionPurpose",
        "hsaCommissionMember",
        "hsaCommissionRight",
        "hsaStartDate",
        "hsaEndDate",
    ),
}
ALL_MANAGED = tuple(sorted({a for attrs in MANAGED.values() for a in attrs}, key=str.lower))
READ_ATTRIBUTES = ("objectClass", *ALL_MANAGED)
CANONICAL = {a.lower(): a for a in (*ALL_MANAGED, "objectClass")}

# Equality matching rule per attribute (schema/hsa.schema and the core schemas).
# Everything not listed is caseIgnoreMatch.
MATCHING_RULE = {
    "hsastartdate": "generalizedTimeMatch",
    "hsaenddate": "generalizedTimeMatch",
    "objectclass": "objectIdentifierMatch",
}


def canonical(attribute: str) -> str:
    """The spelling this toolkit uses for an attribute name (names are case-insensitive)."""
    base, _sep, options = attribute.partition(";")
    name = CANONICAL.get(base.lower(), base)
    return f"{name};{options}" if options else name
