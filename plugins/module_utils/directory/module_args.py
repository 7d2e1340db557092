"""The directory-connection options every toolkit module shares (Ansible glue).

``LDAP_ARGUMENT_SPEC`` matches the ``hsa_ldap`` documentation fragment
(``plugins/doc_fragments/hsa_ldap.py``); ``ldap_settings(module)`` turns the module's
parameters into checked :class:`LdapSettings` and warns when validation is off.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from .client import (
    LdapSettings,
    check_settings,
)


def _env(name: str) -> dict:
    return {"fallback": (env_fallback, [name])}


LDAP_ARGUMENT_SPEC = {
    "uri": {"type": "str", **_env("HSA_LDAP_URI")},
    "bind_dn": {"type": "str", **_env("HSA_LDAP_BIND_DN")},
    "bind_password": {"type": "str", "no_log": True, **_env("HSA_LDAP_BIND_PASSWORD")},
    "base_dn": {"type": "str", **_env("HSA_LDAP_BASE_DN")},
    "ca_file": {"type": "path", **_env("HSA_LDAP_CA_FILE")},
    "client_cert": {"type": "path", **_env("HSA_LDAP_CLIENT_CERT")},
    "client_key": {"type": "path", **_env("HSA_LDAP_CLIENT_KEY")},
    "start_tls": {"type": "bool"},
    "validate_certs": {"type": "bool", "default": True},
    "allow_plaintext": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 10},
}


def ldap_settings(module) -> LdapSettings:
    """Checked settings from the module's parameters (raises LdapConfigError).

    With a client certificate the bind is SASL EXTERNAL, so a bind DN or password that
    came in through the environment is ignored rather than sent.
    """
    p = module.params
    if not p["validate_certs"]:
        module.warn("validate_certs is off: the directory server's identity is NOT checked; "
                    "use this only in a lab")
    if p["client_cert"] and p["bind_dn"]:
        module.warn("client_cert is set: binding with the certificate (SASL EXTERNAL); "
                    "bind_dn and bind_password are not used")
    return check_settings(LdapSettings(
        uri=p["uri"] or "", base_dn=p["base_dn"] or "",
        bind_dn=None if p["client_cert"] else p["bind_dn"],
        bind_password=None if p["client_cert"] else p["bind_password"],
        ca_file=p["ca_file"], client_cert=p["client_cert"], client_key=p["client_key"],
        start_tls=p["start_tls"], validate_certs=p["validate_certs"],
        allow_plaintext=p["allow_plaintext"], timeout=p["timeout"]))
