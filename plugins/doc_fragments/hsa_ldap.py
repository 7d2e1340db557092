"""Documentation of the directory-connection options every toolkit module shares."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  uri:
    description:
      - LDAP URI, C(ldaps://host:636) or C(ldap://host:389) (StartTLS is used).
      - Defaults to the environment variable E(HSA_LDAP_URI).
    type: str
  bind_dn:
    description:
      - DN to bind as with a password. Leave unset with O(client_cert) (SASL EXTERNAL).
      - Defaults to E(HSA_LDAP_BIND_DN).
    type: str
  bind_password:
    description: Password for O(bind_dn). Defaults to E(HSA_LDAP_BIND_PASSWORD). Never logged.
    type: str
  base_dn:
    description:
      - Nothing outside this subtree is read (or written). Defaults to E(HSA_LDAP_BASE_DN).
    type: str
  ca_file:
    description: CA certificates (PEM) that validate the server. Defaults to E(HSA_LDAP_CA_FILE).
    type: path
  client_cert:
    description:
      - Client certificate (PEM, e.g. a SITHS function certificate) for SASL EXTERNAL.
      - Defaults to E(HSA_LDAP_CLIENT_CERT).
    type: path
  client_key:
    description: Private key of O(client_cert). Defaults to E(HSA_LDAP_CLIENT_KEY).
    type: path
  start_tls:
    description: Use StartTLS. Default is V(true) for C(ldap://) and V(false) for C(ldaps://).
    type: bool
  validate_certs:
    description:
      - Validate the server certificate and host name. Turning this off is for a lab only and
        prints a warning.
    type: bool
    default: true
  allow_plaintext:
    description: Allow C(ldap://) without StartTLS (lab only; the password travels in clear).
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the server to connect or answer.
    type: int
    default: 10
"""
