"""Verify clinicians' SITHS certificates (pure core, ``cryptography`` only).

Input is bytes that somebody read (files, directory entries, host stores); output
is the "Certificate findings" JSON of ``docs/architecture.md``. Nothing here does
I/O and the clock is a parameter (``now``), so results are reproducible.

This module is the package's front door; the work is done in its siblings:

1. ``parse``  — ``parse_certificates(data, source, owner)`` turns PEM/DER bytes into
   ``CertRecord`` values (``pem`` is the PEM reader, ``names`` the SITHS CA names).
2. ``trust``  — ``build_trust(items)`` indexes the operator's CA certificates.
3. ``crl``    — ``load_crls(items, trust, now)`` keeps the CRLs whose signature verifies
   against a trusted CA; the others are reported and ignored.
4. ``chain``  — ``Verifier`` checks one certificate (chain by signature, validity,
   legacy CA, revocation).
5. ``match``  — ``verify(people, records, trust, crls, now, warn_days)`` attributes every
   certificate to a person, picks each person's best pair and builds the report.
6. ``render`` — ``render_table(report)`` for a terminal.
"""

from __future__ import annotations

from .chain import DEFAULT_WARN_DAYS, MAX_CHAIN_DEPTH, CertCheck, ChainResult, Verifier
from .crl import CrlIndex, Revocation, load_crls
from .match import USAGE_TEXT, PersonRef, cert_dict, person_ref, verify
from .names import LEGACY_CA_RE, TEST_CA_RE, mask_personnummer
from .parse import CertRecord, classify_usage, parse_certificates
from .pem import pem_blocks
from .render import render_table
from .trust import InputProblem, TrustedCa, TrustStore, build_trust

__all__ = [
    "DEFAULT_WARN_DAYS",
    "LEGACY_CA_RE",
    "MAX_CHAIN_DEPTH",
    "TEST_CA_RE",
    "USAGE_TEXT",
    "CertCheck",
    "CertRecord",
    "ChainResult",
    "CrlIndex",
    "InputProblem",
    "PersonRef",
    "Revocation",
    "TrustStore",
    "TrustedCa",
    "Verifier",
    "build_trust",
    "cert_dict",
    "classify_usage",
    "load_crls",
    "mask_personnummer",
    "parse_certificates",
    "pem_blocks",
    "person_ref",
    "render_table",
    "verify",
]
