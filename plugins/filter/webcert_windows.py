"""Jinja filters for the Windows workstation roles (thin wrappers over the tested core).

The logic lives in ``plugins/module_utils/workstation/`` (policy, versions, services,
installers, trust, reboot, compliance);
each filter converts their error values into one ``AnsibleFilterError`` that
lists every problem. Filters whose answer holds sentences for people take ``language``
(``webcert_language``: ``sv``, the default, or ``en``).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    check_language,
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.compliance import (
    build_report,
    evaluate_host,
    host_failure,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.installers import (
    installer_outcome,
    installer_problem_strings,
    signature_problems,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.policy import (
    browser_list_keys,
    browser_registry_ops,
    netid_allowed_ops,
    owned_by_key,
    values_by_key,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.reboot import (
    pending_reason,
    reboot_decision,
    reboot_message,
    restart_reason,
    window_problems,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.services import (
    service_rules_dicts,
    services_from_info,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.trust import (
    certificate_thumbprint,
    legacy_certificates,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.versions import (
    client_conflicts,
    compare_versions,
    install_decision,
    normalise_products,
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


def _in_language(language, func, *args):
    """``func(*args)`` with its sentences in ``language`` (Swedish when empty)."""
    with use_language(_call(check_language, language or None)):
        return _call(func, *args)


def webcert_browser_registry_ops(spec, present=None, owned=None):
    """Registry operations (list of {control, path, name, type, data, state})."""
    ops, errors = browser_registry_ops(spec, present, owned)
    _fail("webcert_browser policy is invalid", errors)
    return ops


def webcert_browser_list_keys(spec):
    keys, errors = browser_list_keys(spec)
    _fail("webcert_browser policy is invalid", errors)
    return keys


def webcert_netid_allowed_ops(entries, product="enterprise", present=None, exclusive=False, owned=None):
    ops, errors = netid_allowed_ops(product, entries, present, exclusive, owned)
    _fail("netid allowed servers are invalid", errors)
    return ops


def webcert_reg_values(results):
    """{key path: {value name: data}} from a looped win_reg_stat."""
    return values_by_key(results)


def webcert_owned_entries(stat):
    """{list key path: [entries the toolkit wrote]} from win_reg_stat of the bookkeeping key."""
    return owned_by_key(stat)


def webcert_reboot_decision(now, window, users, allow, force=False, language=None):
    return _in_language(language, reboot_decision, now, window, users or [], bool(allow), bool(force))


def webcert_restart_reason(subject, kind, language=None):
    """Why a restart is wanted (``installer``, ``uninstalled``, ``driver``, ``windows``)."""
    return _in_language(language, restart_reason, subject, kind)


def webcert_restart_pending(reasons, why, check_mode=False, language=None):
    """The restarts still wanted and why the host was not restarted."""
    return _in_language(language, pending_reason, reasons or [], why, bool(check_mode))


def webcert_reboot_message(language, delay_seconds):
    return reboot_message(language, delay_seconds)


def webcert_reboot_window_problems(window, path="workstation_reboot_window", language=None):
    return _in_language(language, lambda: [str(p) for p in window_problems(window, path)])


def webcert_installer_outcome(result):
    return installer_outcome(result)


def webcert_version_compare(a, b):
    return _call(compare_versions, a, b)


def webcert_version_at_least(version, minimum):
    return _call(version_at_least, version, minimum)


def webcert_installer_problems(installer, path="installer", allow_http=False, language=None):
    return _in_language(language, installer_problem_strings, installer, path, allow_http)


def webcert_install_decision(
    installed, client, minimum=None, target=None, package_type=None, md_pattern=None, language=None
):
    return _in_language(
        language,
        install_decision,
        installed,
        client,
        minimum or None,
        target or None,
        package_type or None,
        md_pattern or None,
    )


def webcert_products(installed, md_pattern=None):
    return normalise_products(installed, md_pattern or None)


def webcert_client_conflicts(installed, client, package_type="standard", md_pattern=None, language=None):
    return _in_language(
        language, client_conflicts, installed, client, package_type or "standard", md_pattern or None
    )


def webcert_service_rules(
    client, md_package=False, lock_on_removal=False, certprop="auto", netid_certmover=False
):
    return _call(service_rules_dicts, client, md_package, lock_on_removal, certprop, netid_certmover)


def webcert_services_by_name(services):
    """win_service_info ``services`` (or a list of such lists) as {name: {state, start_mode}}."""
    flat = []
    for item in services or []:
        flat.extend(item if isinstance(item, list) else [item])
    return services_from_info(flat)


def webcert_signature_problems(signature, signer_subject=None, language=None):
    return _in_language(language, signature_problems, signature, signer_subject)


def webcert_cert_thumbprint(content):
    return _call(certificate_thumbprint, content)


def webcert_legacy_cas(certificates, names=None):
    """Legacy SITHS CAs among win_certificate_info rows; names empty = the toolkit's list."""
    return legacy_certificates(certificates, names or None)


def webcert_workstation_compliance(raw, host, groups, require_reader=True, language=None):
    return _in_language(language, evaluate_host, host, groups or [], raw, require_reader)


def webcert_host_failure(detail, kind, language=None):
    """Why a host has no complete facts (``unreachable``, ``failed``, ``lost``)."""
    return _in_language(language, host_failure, detail, kind)


def webcert_workstation_report(hosts, generated):
    return build_report(hosts, generated)


class FilterModule:
    """Filters for Windows workstation roles (browser policy, versions, compliance)."""

    def filters(self):
        return {
            "webcert_browser_registry_ops": webcert_browser_registry_ops,
            "webcert_browser_list_keys": webcert_browser_list_keys,
            "webcert_netid_allowed_ops": webcert_netid_allowed_ops,
            "webcert_reg_values": webcert_reg_values,
            "webcert_owned_entries": webcert_owned_entries,
            "webcert_reboot_decision": webcert_reboot_decision,
            "webcert_reboot_message": webcert_reboot_message,
            "webcert_restart_reason": webcert_restart_reason,
            "webcert_restart_pending": webcert_restart_pending,
            "webcert_reboot_window_problems": webcert_reboot_window_problems,
            "webcert_installer_outcome": webcert_installer_outcome,
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
            "webcert_host_failure": webcert_host_failure,
        }
