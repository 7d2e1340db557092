#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: verify every clinician's SITHS certificates (see docs/siths.md)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: siths_certificates
short_description: Verify the SITHS certificates of every person in the provider description
description:
  - Reads the provider description (YAML), collects certificates from the directory
    (C(userCertificate;binary) on person entries), from PEM/DER files or folders and from a
    JSON file of certificates gathered on Windows hosts, and checks each person's
    authentication and signing certificate.
  - Chains are verified by signature against the trust bundle you supply (never by name
    alone), with the checks a TLS relying party makes (path length, key strength, SHA-1,
    extended key usage C(clientAuth) on authentication certificates). Revocation of every
    certificate in the chain, CAs included, is checked with the CRL files (honoured when
    their signature verifies) and/or OCSP. Certificates under the old C(SITHS Root CA v1)
    and C(SITHS CA v3) trees are named as legacy, reserve cards as reserve cards, and the
    HSA-id in the subject C(serialNumber) must be the person's. docs/siths.md lists every
    check and its verdict.
  - Unreadable input (a truncated DER file, a PEM file with junk) becomes a finding for
    that certificate, never a crash. Certificates that match nobody are listed too.
  - The module only reads. It supports check mode fully; the report file is written in
    check mode too, because it is the job's output and not managed state. C(changed) is
    always false.
  - Fails when a person with C(uses_webcert) has no valid authentication + signing pair,
    unless O(warn_only) is true. The report is written before failing.
version_added: "1.0.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
options:
  provider_path:
    description: The provider description, a YAML file or a folder of YAML files.
    type: path
    required: true
  strict_ids:
    description:
      - Validate HSA-ids strictly (production format). Turn off for test environments whose
        ids break the rule, e.g. C(TSTNMT2321000156-DRAA).
    type: bool
    default: true
  trust_bundle:
    description:
      - SITHS CA certificates (root and issuing CAs), PEM or DER files or folders.
        Inera distributes them; see docs/siths.md.
    type: list
    elements: path
    required: true
  crl_files:
    description:
      - CRL files (PEM or DER) or folders of C(*.crl) files. A CRL is used only when its
        signature verifies against a CA in the trust bundle.
    type: list
    elements: path
    default: []
  revocation:
    description:
      - How revocation is checked. V(crl) uses O(crl_files); V(ocsp) asks the OCSP responder
        named in each certificate (Authority Information Access) over HTTP; V(both) does both
        (revoked by either is revoked; a current answer from either establishes the status).
      - Default V(crl) when O(crl_files) is set, else V(ocsp). When set explicitly, a
        certificate whose status cannot be established (no CRL for its CA, no OCSP address)
        gives its owner a warning; by default that is one input warning in the report.
    type: str
    choices: [crl, ocsp, both]
  crl_grace_days:
    description:
      - A CRL past its nextUpdate no longer establishes revocation status. The people it
        concerns get a warning, and an error once the CRL is this many days out of date.
    type: int
    default: 7
  ocsp_timeout:
    description: Seconds to wait for an OCSP responder before reporting that the revocation
      status could not be established.
    type: float
    default: 5
  cert_paths:
    description: Certificate files or folders (C(*.pem), C(*.crt), C(*.cer), C(*.der), C(*.cert)).
    type: list
    elements: path
    default: []
  host_certs_file:
    description:
      - JSON file with certificates gathered from hosts, a list of
        C({host, store, thumbprint, der_base64}) (or C(pem) instead of C(der_base64)).
    type: path
  read_ldap:
    description:
      - Read C(userCertificate;binary) from person entries with one paged search, using the
        connection options below (which default to the C(HSA_LDAP_*) environment variables).
    type: bool
    default: false
  warn_days:
    description: Warn when a certificate expires within this many days.
    type: int
    default: 60
  warn_only:
    description: Never fail because of findings (monitoring mode); the result still says it all.
    type: bool
    default: false
  report_file:
    description: Write the findings JSON here (folders are created). Written in check mode too.
    type: path
  now:
    description:
      - ISO 8601 date-time used as "now" instead of the clock, for reproducible reports and tests.
    type: str
extends_documentation_fragment:
  - webcert_siths.onboarding.hsa_ldap
  - webcert_siths.onboarding.language
notes:
  - Needs the Python packages C(cryptography) and, with O(read_ldap), C(python-ldap) on the controller.
  - Personal identity numbers (personnummer) found in certificates are masked in the output.
seealso:
  - name: SITHS certificates (docs/siths.md)
    description: What is checked and why, and where Inera publishes the SITHS CA certificates.
    link: docs/siths.md
"""

EXAMPLES = r"""
- name: Verify SITHS certificates from the directory and a folder of exported certificates
  webcert_siths.onboarding.siths_certificates:
    provider_path: provider/
    trust_bundle: files/siths-trust/
    crl_files: [files/siths-crl/]
    cert_paths: [files/exported-certs/]
    read_ldap: true
    uri: ldaps://katalog.example.se
    base_dn: c=SE
    bind_dn: cn=webcert-toolkit,o=Exempelvården AB,c=SE
    bind_password: "{{ vault_hsa_ldap_bind_password }}"
    ca_file: /etc/ssl/certs/hsa-ca.pem
    report_file: reports/siths.json
  register: siths

- name: Monitoring run that never fails, only reports
  webcert_siths.onboarding.siths_certificates:
    provider_path: provider/
    trust_bundle: [files/siths-trust/root.pem, files/siths-trust/person-hsa-id-3.pem]
    host_certs_file: reports/host_certs.json
    warn_days: 90
    warn_only: true
"""

RETURN = r"""
generated:
  description: When the check ran (ISO 8601).
  returned: success
  type: str
  sample: "2026-11-26T10:00:00+01:00"
warn_days:
  description: The expiry warning threshold used.
  returned: success
  type: int
  sample: 60
people:
  description:
    - One entry per person in the provider description with C(hsa_id), C(name),
      C(uses_webcert), C(status) (C(ok), C(warning), C(error) = no valid pair), the chosen
      C(auth) and C(sign) certificates (or null), C(problems) (blocking) and C(warnings).
    - A certificate has C(source), C(subject), C(issuer), C(serial_number) (subject
      serialNumber), C(usage), C(not_before), C(not_after), C(days_left), C(chain_ok),
      C(legacy), C(revoked), C(problems), plus C(warnings), C(fingerprint_sha256), C(sources),
      C(card) (V(card), V(reserve_card), V(mobile), V(function) or null) and C(findings).
    - C(findings) (per person and per certificate) are the same findings with C(code),
      C(severity), C(message) (a whole sentence), C(fix) (what to do) and C(it)
      (technical detail for IT, such as OIDs and URLs); a person's findings also name the
      C(certificate) (V(auth) or V(sign)). A person also has C(card).
  returned: success
  type: list
  elements: dict
unmatched:
  description: Certificates (and unreadable inputs) that belong to nobody in the description.
  returned: success
  type: list
  elements: dict
summary:
  description: Counts; C(blocking) = people expected to use Webcert without a valid pair.
  returned: success
  type: dict
  sample: {"people": 12, "ok": 9, "warning": 2, "error": 1, "unmatched": 3, "blocking": 1}
inputs:
  description: What was read (certificate count, trust anchors, CRLs) and problems with inputs.
  returned: success
  type: dict
revocation:
  description: The revocation mode used (V(crl), V(ocsp) or V(both)).
  returned: success
  type: str
  sample: crl
table:
  description: A per-person table and summary for a terminal, one string per line.
  returned: success
  type: list
  elements: str
report_file:
  description: Where the JSON report was written (when O(report_file) is set).
  returned: when report_file is set
  type: str
"""

import datetime as dt
import json
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.module_args import (
    LDAP_ARGUMENT_SPEC,
    ldap_settings,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    LANGUAGE_OPTION,
    _,
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.files import (
    write_atomic,
)

try:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.ocsp import (
        OcspClient,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.sources import (
        CRL_SUFFIXES,
        load_cert_files,
        load_host_certs,
        load_ldap_certs,
        read_files,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.verify import (
        build_trust,
        load_crls,
        render_table,
        verify,
    )

    HAS_CRYPTOGRAPHY = True
    IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported to the user below
    HAS_CRYPTOGRAPHY = False
    IMPORT_ERROR = traceback.format_exc()


def _write_report(path, report):
    write_atomic(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def _now(module):
    text = module.params["now"]
    if not text:
        return dt.datetime.now().astimezone()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        module.fail_json(msg=f"now: {text!r} is not an ISO 8601 date-time "
                             "(write it as 2026-11-26T10:00:00+01:00)")
    return moment if moment.tzinfo else moment.astimezone()


def _load_people(module):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
        load_provider,
    )

    with use_language(module.params["language"]):  # the findings in the user's language
        result = load_provider(module.params["provider_path"],
                               strict_ids=module.params["strict_ids"])
        if result.model is None:
            module.fail_json(msg=_("The provider description has errors; fix them first (run "
                                   "playbooks/validate.yml to see them all)."),
                             errors=[str(f) for f in result.errors])
    return result.model.people, [str(f) for f in result.warnings]


def _ldap_records(module):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapConfigError,
        LdapConnectError,
        connect,
    )

    try:
        settings = ldap_settings(module)
        conn = connect(settings)
    except (LdapConfigError, LdapConnectError) as exc:
        module.fail_json(msg=f"read_ldap: {exc} (or set read_ldap: false)")
    try:
        return load_ldap_certs(conn, settings.base_dn)
    except LdapConnectError as exc:
        module.fail_json(msg=f"read_ldap: {exc}")
    finally:
        conn.unbind()


def run(module):
    p = module.params
    now = _now(module)
    people, model_warnings = _load_people(module)
    for warning in model_warnings:
        module.warn(warning)

    input_errors = []
    trust_items, problems = read_files(p["trust_bundle"], what="CA certificate")
    input_errors += [x for x in problems if x.severity == "error"]
    crl_items, problems = read_files(p["crl_files"], CRL_SUFFIXES, what="CRL")
    input_errors += [x for x in problems if x.severity == "error"]
    records, problems = load_cert_files(p["cert_paths"])
    input_errors += [x for x in problems if x.severity == "error"]
    if p["host_certs_file"]:
        host_records, problems = load_host_certs(p["host_certs_file"])
        records += host_records
        input_errors += [x for x in problems if x.severity == "error"]
    if input_errors:
        module.fail_json(msg="cannot read the inputs; nothing was checked or written",
                         errors=[f"{x.source}: {x.message}" for x in input_errors])
    trust = build_trust(trust_items)
    if not trust.by_subject:
        module.fail_json(msg="no CA certificate in trust_bundle "
                             f"({', '.join(p['trust_bundle'])}): supply the SITHS root and "
                             "issuing CA certificates that Inera publishes (see docs/siths.md)",
                         errors=[f"{x.source}: {x.message}" for x in trust.problems])
    if p["read_ldap"]:
        records = _ldap_records(module) + records
    crls = load_crls(crl_items, trust, now)
    revocation = p["revocation"] or ("crl" if p["crl_files"] else "ocsp")
    ocsp = OcspClient(now, timeout=p["ocsp_timeout"]) if revocation != "crl" else None
    with use_language(p["language"]):
        report = verify(people, records, trust, crls, now, warn_days=p["warn_days"],
                        crl_grace_days=p["crl_grace_days"], revocation=revocation, ocsp=ocsp,
                        require_status=p["revocation"] is not None)
        table = render_table(report)
    report["revocation"] = revocation
    result = dict(report, changed=False, table=table)
    if p["report_file"]:
        _write_report(p["report_file"], report)
        result["report_file"] = p["report_file"]
    blocking = [x for x in report["people"] if x["uses_webcert"] and x["status"] == "error"]
    if blocking and not p["warn_only"]:
        names = "; ".join(f"{x['hsa_id']} ({x['problems'][0]})" for x in blocking[:10])
        more = f" and {len(blocking) - 10} more" if len(blocking) > 10 else ""
        module.fail_json(msg=f"{len(blocking)} person(s) expected to use Webcert have no valid "
                             f"SITHS certificate pair: {names}{more}", **result)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **LDAP_ARGUMENT_SPEC,
            provider_path=dict(type="path", required=True),
            strict_ids=dict(type="bool", default=True),
            trust_bundle=dict(type="list", elements="path", required=True),
            crl_files=dict(type="list", elements="path", default=[]),
            cert_paths=dict(type="list", elements="path", default=[]),
            host_certs_file=dict(type="path"),
            read_ldap=dict(type="bool", default=False),
            warn_days=dict(type="int", default=60),
            revocation=dict(type="str", choices=["crl", "ocsp", "both"]),
            crl_grace_days=dict(type="int", default=7),
            ocsp_timeout=dict(type="float", default=5),
            warn_only=dict(type="bool", default=False),
            report_file=dict(type="path"),
            now=dict(type="str"),
            language=dict(LANGUAGE_OPTION),
        ),
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg="the Python package cryptography is missing on the controller",
                         exception=IMPORT_ERROR)
    if module.params["warn_days"] < 0:
        module.fail_json(msg="warn_days must be 0 or more")
    if module.params["crl_grace_days"] < 0:
        module.fail_json(msg="crl_grace_days must be 0 or more")
    if module.params["ocsp_timeout"] <= 0:
        module.fail_json(msg="ocsp_timeout must be more than 0 seconds")
    run(module)


if __name__ == "__main__":
    main()
