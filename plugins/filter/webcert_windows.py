"""Jinja filters for the Windows workstation roles (thin wrappers over the tested core).

The logic lives in ``plugins/module_utils/win_policy.py`` and ``win_versions.py``;
each filter converts their error values into one ``AnsibleFilterError`` that
lists every problem.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.policy import (
    browser_list_keys,
    browser_registry_ops,
    netid_allowed_ops,
    value_names_by_key,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.versions import (
    build_report,
    certificate_thumbprint,
    client_conflicts,
    compare_versions,
    evaluate_host,
    install_decision,
    installer_problem_strings,
    legacy_certificates,
    normalise_products,
    service_rules_dicts,
    services_from_info,
    signature_problems,
    version_at_least,
)


def _fail(what: str, errors: list[str]) -> None:
    if errors:
        raise AnsibleFilterError(f"{what}:\n  - " + "\n  - ".join(errors))


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def webcert_browser_registry_ops(spec, present=None):
    """Registry operations (list of {control, path, name, type, data, state})."""
    ops, errors = browser_registry_ops(spec, present)
    _fail("webcert_browser policy is invalid", errors)
    return ops


def webcert_browser_list_keys(spec):
    keys, errors = browser_list_keys(spec)
    _fail("webcert_browser policy is invalid", errors)
    return keys


def webcert_netid_allowed_ops(entries, product="enterprise", present=None, exclusive=True):
    ops, errors = netid_allowed_ops(product, entries, present, exclusive)
    _fail("netid allowed servers are invalid", errors)
    return ops


def webcert_reg_value_names(results):
    return value_names_by_key(results)


def webcert_version_compare(a, b):
    return _call(compare_versions, a, b)


def webcert_version_at_least(version, minimum):
    return _call(version_at_least, version, minimum)


def webcert_installer_problems(installer, path="installer", allow_http=False):
    return installer_problem_strings(installer, path, allow_http)


def webcert_install_decision(installed, client, minimum=None, target=None):
    return _call(install_decision, installed, client, minimum or None, target or None)


def webcert_products(installed):
    return normalise_products(installed)


def webcert_client_conflicts(installed, client):
    return _call(client_conflicts, installed, client)


def webcert_service_rules(
    client, md_package=False, lock_on_removal=False, certprop="auto", netid_certmover=False
):
    return _call(
        service_rules_dicts, client, md_package, lock_on_removal, certprop, netid_certmover
    )


def webcert_services_by_name(services):
    """win_service_info ``services`` (or a list of such lists) as {name: {state, start_mode}}."""
    flat = []
    for item in services or []:
        flat.extend(item if isinstance(item, list) else [item])
    return services_from_info(flat)


def webcert_signature_problems(signature, signer_subject=None):
    return signature_problems(signature, signer_subject)


def webcert_cert_thumbprint(content):
    return _call(certificate_thumbprint, content)


def webcert_legacy_cas(certificates, names=None):
    if names:
        return legacy_certificates(certificates, names)
    return legacy_certificates(certificates)


def webcert_workstation_compliance(raw, host, groups, require_reader=True):
    return evaluate_host(host, groups or [], raw, require_reader)


def webcert_workstation_report(hosts, generated):
    return build_report(hosts, generated)


class FilterModule:
    """Filters for Windows workstation roles (browser policy, versions, compliance)."""

    def filters(self):
        return {
            "webcert_browser_registry_ops": webcert_browser_registry_ops,
            "webcert_browser_list_keys": webcert_browser_list_keys,
            "webcert_netid_allowed_ops": webcert_netid_allowed_ops,
            "webcert_reg_value_names": webcert_reg_value_names,
            "webcert_version_compare": webcert_version_compare,
            "webcert_version_at_least": webcert_version_at_least,
            "webcert_installer_problems": webcert_installer_problems,
            "webcert_install_decision": webcert_install_decision,
            "webcert_products": webcert_products,
            "webcert_client_conflicts": webcert_client_conflicts,
            "webcert_service_rules": webcert_service_rules,
            "webcert_services_by_name": webcert_services_by_name,
            "webcert_signature_problems": webcert_signature_problems,
            "webcert_cert_thumbprint": webcert_cert_thumbprint,
            "webcert_legacy_cas": webcert_legacy_cas,
            "webcert_workstation_compliance": webcert_workstation_compliance,
            "webcert_workstation_report": webcert_workstation_report,
        }
