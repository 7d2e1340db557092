"""Pytest fixtures for a real OpenLDAP slapd with the project's HSA schema.

``hsa_sandbox`` starts one sandbox per test session (``tools/hsa_sandbox.py``) in a
temporary folder and stops it at the end. Tests that need a pristine tree call
``hsa_sandbox.reset()``. Tests that must stop or break the server start their own
instance with ``hsa_sandbox_factory``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import hsa_sandbox as sb
import pytest


@dataclass
class Sandbox:
    info: sb.SandboxInfo

    uri = property(lambda self: self.info.uri)
    ldaps_uri = property(lambda self: self.info.ldaps_uri)
    bind_dn = property(lambda self: self.info.bind_dn)
    bind_password = property(lambda self: self.info.bind_password)
    base_dn = property(lambda self: self.info.base_dn)
    ca_file = property(lambda self: self.info.ca_file)
    client_cert = property(lambda self: self.info.client_cert)
    client_key = property(lambda self: self.info.client_key)
    dir = property(lambda self: Path(self.info.dir))
    env = property(lambda self: self.info.env)
    port = property(lambda self: self.info.port)

    def settings(self, **overrides):
        from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
            LdapSettings,
        )

        values = {
            "uri": self.uri, "base_dn": self.base_dn, "bind_dn": self.bind_dn,
            "bind_password": self.bind_password, "ca_file": self.ca_file,
        }
        values.update(overrides)
        return LdapSettings(**values)

    def connect(self, **overrides):
        from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
            connect,
        )

        return connect(self.settings(**overrides))

    def add(self, dn: str, object_classes, attributes: dict) -> None:
        """Add one entry with python-ldap itself (not the toolkit's apply)."""
        entry = {"objectClass": list(object_classes), **attributes}
        with self.connect() as conn:
            conn.ldap.add_s(dn, [(name, [v if isinstance(v, bytes) else str(v).encode()
                                         for v in (vs if isinstance(vs, list | tuple) else [vs])])
                                 for name, vs in entry.items()])

    def delete(self, dn: str) -> None:
        """Delete one entry if it is there."""
        import ldap

        with self.connect() as conn, contextlib.suppress(ldap.NO_SUCH_OBJECT):
            conn.ldap.delete_s(dn)

    def values(self, dn: str) -> dict[str, list[str]]:
        """Every attribute of one entry, values as text."""
        with self.connect() as conn:
            ((_, attrs),) = conn.search(dn, attributes=["*"], scope="base")
        return {k: [v.decode("utf-8") for v in vs] for k, vs in attrs.items()}

    def ldap_env(self) -> dict[str, str]:
        """Environment for the OpenLDAP command-line tools (ldapsearch, ldapmodify)."""
        return dict(os.environ, LDAPTLS_CACERT=self.ca_file, LDAPTLS_REQCERT="demand")

    def ldap_tool(self, tool: str, *args: str, input: str | None = None, check: bool = True):
        """Run ldapsearch/ldapadd/ldapmodify/ldapdelete as the sandbox admin over StartTLS."""
        cmd = [tool, "-x", "-ZZ", "-H", self.uri, "-D", self.bind_dn, "-y",
               str(self.dir / "bind.pw"), *args]
        return subprocess.run(cmd, input=input, env=self.ldap_env(), capture_output=True,
                              text=True, check=check)

    def dump(self) -> str:
        """Full LDIF dump of the tree with operational attributes that matter for equality."""
        r = self.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", self.base_dn,
                           "(objectClass=*)", "*", "entryUUID", "entryCSN")
        blocks = sorted(b for b in r.stdout.strip().split("\n\n") if b)
        return "\n\n".join(blocks)

    def reset(self) -> None:
        """Delete every entry below the base DN (the base entry stays)."""
        # -M (ManageDsaIT): referral objects are entries to delete, not referrals to follow
        r = self.ldap_tool("ldapsearch", "-LLL", "-M", "-o", "ldif-wrap=no", "-b", self.base_dn,
                           "-s", "one", "(objectClass=*)", "1.1")
        dns = [line[4:] for line in r.stdout.splitlines() if line.startswith("dn: ")]
        dns += [sb_b64(line) for line in r.stdout.splitlines() if line.startswith("dn:: ")]
        if dns:
            self.ldap_tool("ldapdelete", "-M", "-r", *dns)

    def stop(self) -> None:
        sb.stop(self.dir)

    def start(self) -> None:
        self.info = sb.start(self.dir, self.info.port)


def sb_b64(line: str) -> str:
    import base64

    return base64.b64decode(line[5:]).decode("utf-8")


def _require_slapd() -> None:
    try:
        sb.find_slapd()
    except sb.SandboxError as exc:
        pytest.fail(str(exc))  # make test installs slapd; a missing one is a set-up error
    if not shutil.which("ldapsearch"):
        pytest.fail("ldap-utils is missing: sudo apt-get install -y ldap-utils")


@pytest.fixture(scope="session")
def hsa_sandbox(tmp_path_factory):
    _require_slapd()
    d = tmp_path_factory.mktemp("hsa-sandbox")
    info = sb.start(d)
    box = Sandbox(info)
    yield box
    sb.stop(d)


@pytest.fixture
def hsa_sandbox_factory(tmp_path):
    """Start extra, private sandboxes (for tests that stop or break the server)."""
    _require_slapd()
    started: list[Path] = []

    def make(name: str = "private") -> Sandbox:
        d = tmp_path / name
        started.append(d)
        return Sandbox(sb.start(d))

    yield make
    for d in started:
        sb.stop(d)
