"""TLS: an untrusted, expired or wrong-hostname server certificate is refused; plain
ldap:// without StartTLS is refused unless allowed; a client certificate binds, and a
client certificate with the right name from another CA does not.

Certificates are made with the test PKI's builders (tools/siths_testpki.py); the private
servers get them in their ``tls/`` folder before slapd starts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import hsa_sandbox as sb
import pytest
from adversarial_support import hsa_entries, ldap_args, provider_files, run_module, write_tree
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from siths_testpki import ca_certificate, make_name, new_key, pem_of, tls_leaf

NOW = dt.datetime.now(dt.UTC)


_pem = pem_of


def new_ca(cn: str):
    key = new_key()
    cert = ca_certificate(make_name(cn, "Other CA"), key, not_before=NOW - dt.timedelta(days=1),
                          not_after=NOW + dt.timedelta(days=30), path_length=0)
    return cert, key


def leaf(ca_cert, ca_key, cn: str, *, eku, san=None, days=(-1, 30)):
    key, cert = tls_leaf(ca_cert, ca_key, cn, eku, san=san,
                         not_before=NOW + dt.timedelta(days=days[0]),
                         not_after=NOW + dt.timedelta(days=days[1]))
    return cert, key


def _load_ca(tls: Path):
    cert = x509.load_pem_x509_certificate((tls / "ca.pem").read_bytes())
    key = serialization.load_pem_private_key((tls / "ca.key").read_bytes(), None)
    return cert, key


LOCAL = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


@pytest.fixture
def bad_server(hsa_sandbox_factory, tmp_path, monkeypatch):
    """Start a private slapd whose server certificate is replaced before the start."""

    def make(kind: str):
        d = tmp_path / kind
        sb.make_tls(d / "tls")
        ca_cert, ca_key = _load_ca(d / "tls")
        if kind == "expired":
            cert, key = leaf(ca_cert, ca_key, "localhost", eku=ExtendedKeyUsageOID.SERVER_AUTH,
                             san=LOCAL, days=(-60, -1))
        else:  # wrong host name: valid, trusted, but for another name only
            cert, key = leaf(ca_cert, ca_key, "hsa.other.example",
                             eku=ExtendedKeyUsageOID.SERVER_AUTH,
                             san=[x509.DNSName("hsa.other.example")])
        (d / "tls" / "server.pem").write_bytes(_pem(cert))
        (d / "tls" / "server.key").write_bytes(_pem(key))
        # the sandbox's readiness probe insists on a valid certificate: probe the port only
        monkeypatch.setattr(sb, "_ldap_ready", lambda info, timeout: _port_open(info.port))
        monkeypatch.setattr(sb, "_ensure_base", lambda info: None)
        return hsa_sandbox_factory(kind)

    return make


def _port_open(port: int) -> bool:
    import socket
    import time

    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _refused(box, **overrides):
    """The directory client (every read and write) refuses to connect."""
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapConnectError,
    )

    with pytest.raises(LdapConnectError) as err:
        box.connect(**overrides)
    text = str(err.value)
    assert "serverns certifikat är inte betrott" in text, text
    assert box.bind_password not in text
    return text


@pytest.mark.parametrize("kind", ["expired", "wronghost"])
def test_expired_and_wrong_hostname_server_certificates_are_refused(bad_server, kind):
    box = bad_server(kind)
    _refused(box)                                        # ldap:// + StartTLS
    _refused(box, uri=box.ldaps_uri)                     # ldaps://
    conn = box.connect(validate_certs=False)             # the lab opt-out does connect,
    conn.unbind()                                        # so the refusal above is the check
    box.connect(uri=box.ldaps_uri, validate_certs=False).unbind()


def test_wrong_hostname_is_refused_by_the_module_and_nothing_written(bad_server, tmp_path):
    box = bad_server("wronghost")
    folder = write_tree(tmp_path / "p", provider_files(people=1))
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder), **ldap_args(box)})
    assert rc != 0 and "serverns certifikat är inte betrott" in res["msg"], out[-2000:]
    assert box.bind_password not in out


def test_untrusted_server_certificate_is_refused(hsa_sandbox, tmp_path):
    other_ca, _ = new_ca("Untrusted CA")
    ca_file = tmp_path / "other-ca.pem"
    ca_file.write_bytes(_pem(other_ca))
    _refused(hsa_sandbox, ca_file=str(ca_file))
    _refused(hsa_sandbox, ca_file=str(ca_file), uri=hsa_sandbox.ldaps_uri)
    _refused(hsa_sandbox, ca_file=None)  # the system store does not know the sandbox CA


def test_plain_ldap_without_starttls_is_refused_unless_allowed(hsa_sandbox, tmp_path):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapConfigError,
    )

    with pytest.raises(LdapConfigError) as err:
        hsa_sandbox.connect(start_tls=False)
    assert "okrypterat" in str(err.value) and hsa_sandbox.bind_password not in str(err.value)
    folder = write_tree(tmp_path / "p", provider_files(people=1))
    hsa_sandbox.reset()
    rc, res, out = run_module("hsa_reconcile", {"provider_path": str(folder), "start_tls": False,
                                                **ldap_args(hsa_sandbox)})
    assert rc != 0 and "okrypterat" in res["msg"] and hsa_entries(hsa_sandbox) == [], out[-2000:]
    with hsa_sandbox.connect(start_tls=False, allow_plaintext=True) as conn:  # allowed
        assert conn.tls_version() is None  # a plain connection, as asked for
        assert list(conn.search(hsa_sandbox.base_dn, attributes=["objectClass"]))


def test_client_certificate_binds_and_one_from_another_ca_is_refused(hsa_sandbox, tmp_path):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapConnectError,
    )

    hsa_sandbox.reset()
    cert_only = {"bind_dn": None, "bind_password": None}
    conn = hsa_sandbox.connect(client_cert=hsa_sandbox.client_cert,
                               client_key=hsa_sandbox.client_key, **cert_only)
    assert conn.whoami().lower() == f"dn:{sb.CLIENT_DN}".lower()
    conn.unbind()
    folder = write_tree(tmp_path / "p", provider_files(people=1))
    args = {"provider_path": str(folder), "uri": hsa_sandbox.uri, "base_dn": hsa_sandbox.base_dn,
            "ca_file": hsa_sandbox.ca_file}
    rc, res, out = run_module("hsa_reconcile", {**args, "client_cert": hsa_sandbox.client_cert,
                                                "client_key": hsa_sandbox.client_key})
    assert rc == 0 and res["apply"]["applied"] == 3, out[-2000:]

    # same subject name, issued by a CA the server does not trust
    other_ca, other_key = new_ca("Impostor CA")
    cert, key = leaf(other_ca, other_key, "hsa-reconciler", eku=ExtendedKeyUsageOID.CLIENT_AUTH)
    (tmp_path / "fake.pem").write_bytes(_pem(cert))
    (tmp_path / "fake.key").write_bytes(_pem(key))
    fake = {"client_cert": str(tmp_path / "fake.pem"), "client_key": str(tmp_path / "fake.key")}
    with pytest.raises(LdapConnectError) as err:
        hsa_sandbox.connect(**fake, **cert_only)
    assert ("godtog inte inloggningen" in str(err.value)
            or "Det gick inte att" in str(err.value)), str(err.value)
    with pytest.raises(LdapConnectError) as err:
        hsa_sandbox.connect(uri=hsa_sandbox.ldaps_uri, **fake, **cert_only)
    assert ("godtog inte inloggningen" in str(err.value)
            or "Det gick inte att" in str(err.value)), str(err.value)
    hsa_sandbox.reset()
    rc, res, out = run_module("hsa_reconcile", {**args, **fake})
    assert rc != 0 and hsa_entries(hsa_sandbox) == [], out[-2000:]
