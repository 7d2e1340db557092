"""The embedded HSA sandbox: a real slapd with the project's HSA schema, TLS on."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import hsa_sandbox as sb
import ldap
import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
    LdapConfigError,
    LdapConnectError,
    connect,
)

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "hsa-sandbox"

EVERY_ATTRIBUTE = {
    "hsaIdentity": "SE5565594230-U000000000001",  # the commission is read last
    "orgNo": "5565594230",
    "unitPrescriptionCode": ["1234567", "7654321"],
    "hsaResponsibleHealthCareProvider": "SE5565594230-P000000000000",
    "hsaHealthCareUnitMember": ["SE5565594230-E000000000002"],
    "hsaCommissionPurpose": "Vård och behandling",
    "hsaCommissionMember": ["SE5565594230-P000000000003"],
    "hsaCommissionRight": ["Läsa;alla;SJF"],
    "hsaTitle": ["Läkare", "Sjuksköterska"],
    "personalPrescriptionCode": "1234567",
    "hsaGroupPrescriptionCode": ["9300005"],
    "hsaSosTitleCodeSpeciality": ["LK;1024;Allmänmedicin"],
    "paTitleCode": ["204010"],
    "paTitleName": ["AT-läkare"],
    "fullName": "Åsa Öberg",
    "specialityCode": ["1024"],
    "specialityName": ["Allmänmedicin"],
    "hsaStartDate": "20260101000000Z",
    "hsaEndDate": "20271231000000Z",
}


def _norm(values):
    return sorted(str(v) for v in (values if isinstance(values, list) else [values]))


def _add(conn, dn, classes, attrs):
    """Add an entry with python-ldap itself (``conn.ldap``), not the toolkit's apply."""
    entry = {"objectClass": classes, **attrs}
    conn.ldap.add_s(dn, [(k, [str(x).encode() for x in (v if isinstance(v, list) else [v])])
                         for k, v in entry.items()])


def _dns(conn, base, filterstr, attributes):
    return [dn for dn, _ in conn.search(base, filterstr, attributes)]


def test_every_schema_attribute_round_trips_over_starttls(hsa_sandbox):
    """One entry per object class carries every HSA attribute; UTF-8 comes back intact."""
    conn = connect(hsa_sandbox.settings())
    assert conn.tls_version(), "ldap:// must be upgraded with StartTLS"
    base = hsa_sandbox.base_dn
    provider_dn = f"o=Testvård AB,{base}"
    unit_dn = f"ou=Vårdcentralen Norr,{provider_dn}"
    person_dn = f"hsaIdentity=SE5565594230-P000000000003,{unit_dn}"
    commission_dn = f"cn=Läkare VC Norr,{unit_dn}"
    try:
        _add(conn, provider_dn, ["organization", "hsaHealthCareProvider"],
             {"hsaIdentity": "SE5565594230-P000000000000", "orgNo": EVERY_ATTRIBUTE["orgNo"]})
        unit = {k: EVERY_ATTRIBUTE[k] for k in (
            "unitPrescriptionCode", "hsaResponsibleHealthCareProvider", "hsaHealthCareUnitMember")}
        _add(conn, unit_dn, ["organizationalUnit", "hsaHealthCareUnit"],
             {"hsaIdentity": "SE5565594230-E000000000001", "mail": "norr@example.se", **unit})
        person = {k: EVERY_ATTRIBUTE[k] for k in (
            "hsaTitle", "personalPrescriptionCode", "hsaGroupPrescriptionCode",
            "hsaSosTitleCodeSpeciality", "paTitleCode", "paTitleName", "fullName",
            "specialityCode", "specialityName")}
        _add(conn, person_dn, ["inetOrgPerson", "hsaPersonExtension"],
             {"cn": "Åsa Öberg", "sn": "Öberg", "givenName": "Åsa", **person})
        commission = {k: EVERY_ATTRIBUTE[k] for k in (
            "hsaCommissionPurpose", "hsaCommissionMember", "hsaCommissionRight",
            "hsaStartDate", "hsaEndDate")}
        _add(conn, commission_dn, ["hsaCommission"],
             {"hsaIdentity": "SE5565594230-U000000000001", **commission})

        seen: dict[str, list] = {}
        for dn in (provider_dn, unit_dn, person_dn, commission_dn):
            ((_, attrs),) = conn.search(dn, attributes=["*"], scope="base")
            for name, values in attrs.items():
                decoded = [v.decode("utf-8") for v in values]
                if name in EVERY_ATTRIBUTE:
                    seen[name] = decoded
        for name, expected in EVERY_ATTRIBUTE.items():
            assert _norm(seen.get(name, [])) == _norm(expected), name

        # Equality matching works (the server can compare values): case-insensitive text.
        # (searched below this test's own provider: other tests share the sandbox)
        assert _dns(conn, provider_dn, "(hsaTitle=läkare)", ["hsaIdentity"]) == [person_dn]
        assert len(_dns(conn, provider_dn, "(hsaStartDate<=20260601000000Z)", ["cn"])) == 1
    finally:
        for dn in (commission_dn, person_dn, unit_dn, provider_dn):
            with contextlib.suppress(ldap.NO_SUCH_OBJECT):
                conn.ldap.delete_s(dn)
        conn.unbind()


def test_ldaps_and_client_certificate_bind(hsa_sandbox):
    conn = connect(hsa_sandbox.settings(uri=hsa_sandbox.ldaps_uri))
    assert conn.tls_version() and conn.whoami() == "dn:cn=admin,c=SE"
    conn.unbind()
    conn = connect(hsa_sandbox.settings(bind_dn=None, bind_password=None,
                                        client_cert=hsa_sandbox.client_cert,
                                        client_key=hsa_sandbox.client_key))
    assert conn.whoami() == "dn:cn=hsa-reconciler,o=sandbox,c=se"
    conn.unbind()


def test_untrusted_server_certificate_is_refused(hsa_sandbox, tmp_path):
    sb.make_tls(tmp_path / "other")  # a CA that did not issue the server certificate
    for uri in (hsa_sandbox.uri, hsa_sandbox.ldaps_uri):
        with pytest.raises(LdapConnectError, match="certifikat är inte betrott"):
            connect(hsa_sandbox.settings(uri=uri, ca_file=str(tmp_path / "other" / "ca.pem")))


def test_wrong_password_is_refused_and_never_echoed(hsa_sandbox):
    secret = "Hemligt-Lösen-4711"
    with pytest.raises(LdapConnectError) as err:
        connect(hsa_sandbox.settings(bind_password=secret))
    assert "Katalogen godtog inte inloggningen" in str(err.value)
    assert secret not in str(err.value) and secret not in repr(hsa_sandbox.settings(
        bind_password=secret))


def test_plain_ldap_needs_explicit_permission(hsa_sandbox):
    with pytest.raises(LdapConfigError, match="okrypterat"):
        connect(hsa_sandbox.settings(start_tls=False))
    conn = connect(hsa_sandbox.settings(start_tls=False, allow_plaintext=True))
    assert conn.whoami() == "dn:cn=admin,c=SE" and not conn.tls_version()
    conn.unbind()


def _tool(*args, check=True):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "hsa_sandbox.py"), *args],
                          capture_output=True, text=True, check=check)


def test_sandbox_cli_lifecycle(tmp_path):
    d = str(tmp_path / "box")
    first = _tool("start", "--dir", d)
    exports = dict(line[len("export "):].split("=", 1) for line in first.stdout.splitlines())
    assert set(exports) == {"HSA_LDAP_URI", "HSA_LDAP_BIND_DN", "HSA_LDAP_BIND_PASSWORD",
                            "HSA_LDAP_BASE_DN", "HSA_LDAP_CA_FILE"}
    assert exports["HSA_LDAP_CA_FILE"].endswith("ca.pem")
    pid = int((tmp_path / "box" / "slapd.pid").read_text())
    # Start twice: a no-op that prints the same settings.
    assert _tool("start", "--dir", d).stdout == first.stdout
    assert int((tmp_path / "box" / "slapd.pid").read_text()) == pid
    assert _tool("status", "--dir", d).stdout.startswith("running")
    # Crash: stale pid file, then a clean restart.
    os.kill(pid, signal.SIGKILL)
    stale = _tool("status", "--dir", d, check=False)
    assert stale.returncode == 3 and "stale" in stale.stdout
    again = _tool("start", "--dir", d)
    assert "stale pid file" in again.stderr
    assert again.stdout == first.stdout  # same port, same password, same CA
    # Stop twice.
    assert _tool("stop", "--dir", d).stdout.startswith("stopped slapd")
    assert _tool("stop", "--dir", d).stdout.strip() == "not running"
    assert _tool("status", "--dir", d, check=False).returncode == 3


def test_port_in_use_gives_a_clear_message(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = _tool("start", "--dir", str(tmp_path / "box"), "--port", str(port), check=False)
    assert r.returncode == 2
    assert f"port {port}" in r.stderr and "already in use" in r.stderr


def test_wrapper_script_is_executable():
    assert os.access(TOOL, os.X_OK)
    r = subprocess.run([str(TOOL), "status", "--dir", "/nonexistent/never"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 3 and r.stdout.strip() == "stopped"
