"""LDAP connections for the toolkit (the I/O edge every directory job shares).

Secure by default: ``ldap://`` URIs get StartTLS, ``ldaps://`` URIs TLS from the first
byte, and the server certificate is validated against ``ca_file`` (or the system store)
including the host name. Plain LDAP must be asked for with ``allow_plaintext``, and turning
validation off with ``validate_certs=False`` is possible but reported by the callers.
Client-certificate authentication (a SITHS function certificate) binds with SASL EXTERNAL.

Messages raised from here never contain the bind password.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlparse

# ldap3 (with pyasn1) takes longer to import than a no-change plan takes to read the
# directory: it is imported on first use (_ldap3()), not with this module, so a run that
# reads through hsa_wire never pays for it.
ldap3 = None
ldap_exc = None
LDAP3_IMPORT_ERROR: Exception | None = None


def _ldap3():
    """The ldap3 package (imported once), or None when it is missing."""
    global ldap3, ldap_exc, LDAP3_IMPORT_ERROR
    if ldap3 is None and LDAP3_IMPORT_ERROR is None:
        try:
            import ldap3 as _module
            from ldap3.core import exceptions as _exceptions
        except ImportError as exc:  # pragma: no cover - reported by connect()
            LDAP3_IMPORT_ERROR = exc
        else:
            ldap3, ldap_exc = _module, _exceptions
    return ldap3


ENV_VARS = {
    "uri": "HSA_LDAP_URI",
    "bind_dn": "HSA_LDAP_BIND_DN",
    "bind_password": "HSA_LDAP_BIND_PASSWORD",
    "base_dn": "HSA_LDAP_BASE_DN",
    "ca_file": "HSA_LDAP_CA_FILE",
    "client_cert": "HSA_LDAP_CLIENT_CERT",
    "client_key": "HSA_LDAP_CLIENT_KEY",
}

PAGE_SIZE = 500


class LdapConfigError(ValueError):
    """The connection settings are wrong; the message says which one and how to fix it."""


class LdapConnectError(RuntimeError):
    """The server could not be reached, refused TLS, or refused the bind."""


@dataclass(frozen=True)
class LdapSettings:
    uri: str
    base_dn: str
    bind_dn: str | None = None
    bind_password: str | None = None
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    start_tls: bool | None = None  # None: StartTLS for ldap://, not for ldaps://
    validate_certs: bool = True
    allow_plaintext: bool = False
    timeout: float = 10.0

    def __repr__(self) -> str:  # never show the password, even in a traceback
        shown = "***" if self.bind_password else None
        return (
            f"LdapSettings(uri={self.uri!r}, base_dn={self.base_dn!r}, bind_dn={self.bind_dn!r}, "
            f"bind_password={shown!r}, ca_file={self.ca_file!r}, client_cert={self.client_cert!r}, "
            f"start_tls={self.start_tls!r}, validate_certs={self.validate_certs!r}, "
            f"allow_plaintext={self.allow_plaintext!r})"
        )

    __str__ = __repr__

    @property
    def uses_client_cert(self) -> bool:
        return bool(self.client_cert)


def settings_from_env(environ: dict | None = None, **overrides) -> LdapSettings:
    """Settings from the HSA_LDAP_* variables, with explicit values (not None) winning."""
    env = os.environ if environ is None else environ
    values = {field: env.get(var) or None for field, var in ENV_VARS.items()}
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["uri"] = values.get("uri") or ""
    values["base_dn"] = values.get("base_dn") or ""
    return check_settings(LdapSettings(**values))


def check_settings(s: LdapSettings) -> LdapSettings:
    """Validate settings before any connection; return them with start_tls resolved."""
    if not s.uri:
        raise LdapConfigError(
            "no LDAP URI: set hsa_ldap_uri (or HSA_LDAP_URI), e.g. ldaps://hsa.example.se"
        )
    parsed = urlparse(s.uri)
    if parsed.scheme not in ("ldap", "ldaps") or not parsed.hostname:
        raise LdapConfigError(
            f"hsa_ldap_uri {s.uri!r} is not an LDAP URI (write ldap://host:389 or ldaps://host:636)"
        )
    if not s.base_dn:
        raise LdapConfigError("no base DN: set hsa_ldap_base_dn (or HSA_LDAP_BASE_DN), e.g. c=SE")
    start_tls = s.start_tls
    if start_tls is None:
        start_tls = parsed.scheme == "ldap"
    if parsed.scheme == "ldaps" and start_tls:
        raise LdapConfigError("start_tls makes no sense with ldaps:// (TLS is already on)")
    if parsed.scheme == "ldap" and not start_tls and not s.allow_plaintext:
        raise LdapConfigError(
            f"{s.uri} without StartTLS would send the bind password in clear text; "
            "use ldaps://, keep StartTLS on, or set hsa_ldap_allow_plaintext: true (lab only)"
        )
    if s.client_cert and not s.client_key:
        raise LdapConfigError("hsa_ldap_client_cert is set but hsa_ldap_client_key is not")
    for label, path in (("ca_file", s.ca_file), ("client_cert", s.client_cert),
                        ("client_key", s.client_key)):
        if path and not os.path.isfile(path):
            raise LdapConfigError(f"hsa_ldap_{label}: file {path!r} does not exist")
    if not s.client_cert and s.bind_dn and s.bind_password is None:
        raise LdapConfigError(
            "hsa_ldap_bind_dn is set but no password was given "
            "(set hsa_ldap_bind_password from vault, or HSA_LDAP_BIND_PASSWORD)"
        )
    if not s.client_cert and s.bind_dn and s.bind_password == "":
        raise LdapConfigError(
            "hsa_ldap_bind_password is empty: a bind with a name and no password is an "
            "unauthenticated bind (RFC 4513 5.1.2), which a server may take as anonymous; "
            "set the password (from vault), or leave hsa_ldap_bind_dn empty for anonymous"
        )
    return replace(s, start_tls=start_tls)


def _scrub(text: str, s: LdapSettings) -> str:
    if s.bind_password:
        text = text.replace(s.bind_password, "***")
    return text


def _tls(s: LdapSettings):
    kwargs = {
        "validate": ssl.CERT_REQUIRED if s.validate_certs else ssl.CERT_NONE,
        "version": ssl.PROTOCOL_TLS_CLIENT,
    }
    if s.ca_file:
        kwargs["ca_certs_file"] = s.ca_file
    if s.client_cert:
        kwargs["local_certificate_file"] = s.client_cert
        kwargs["local_private_key_file"] = s.client_key
    return ldap3.Tls(**kwargs)


def connect(settings: LdapSettings):
    """Open, secure and bind one connection. Raises LdapConnectError with a clear message."""
    if _ldap3() is None:
        raise LdapConnectError(f"the Python package ldap3 is missing ({LDAP3_IMPORT_ERROR})")
    s = check_settings(settings)
    parsed = urlparse(s.uri)
    use_ssl = parsed.scheme == "ldaps"
    port = parsed.port or (636 if use_ssl else 389)
    server = ldap3.Server(
        parsed.hostname, port=port, use_ssl=use_ssl,
        tls=_tls(s) if (use_ssl or s.start_tls) else None,
        get_info=ldap3.NONE, connect_timeout=max(1, int(s.timeout)),
    )
    if s.client_cert:
        # Empty credentials: the server takes the identity from the TLS client certificate.
        conn_kwargs = {"authentication": ldap3.SASL, "sasl_mechanism": ldap3.EXTERNAL,
                       "sasl_credentials": ""}
    elif s.bind_dn:
        conn_kwargs = {"user": s.bind_dn, "password": s.bind_password,
                       "authentication": ldap3.SIMPLE}
    else:
        conn_kwargs = {"authentication": ldap3.ANONYMOUS}
    conn = ldap3.Connection(
        server, auto_bind=ldap3.AUTO_BIND_NONE, receive_timeout=max(1, int(s.timeout)),
        raise_exceptions=False, read_only=False, auto_referrals=False, **conn_kwargs,
    )
    step = "connect to"
    try:
        conn.open()
        no_delay(conn.socket)
        if s.start_tls:
            step = "start TLS with"
            if not conn.start_tls():
                raise LdapConnectError(f"StartTLS refused by {s.uri}: {conn.result}")
        step = "bind to"
        if not conn.bind():
            raise LdapConnectError(bind_refused(
                s, (conn.result or {}).get("description", "bind failed"),
                (conn.result or {}).get("message", "")))
    except LdapConnectError:
        _safe_unbind(conn)
        raise
    except (ldap_exc.LDAPException, OSError, ssl.SSLError) as exc:
        _safe_unbind(conn)
        raise LdapConnectError(connect_failure(step, exc, s)) from None
    return conn


def connect_failure(step: str, exc: BaseException, s: LdapSettings) -> str:
    """The message for a connection that failed at ``step`` ("connect to", "start TLS
    with", "bind to"): what happened and, for the usual causes, what to check."""
    detail = _scrub(str(exc), s)
    hint = ""
    if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate" in detail.lower():
        hint = (" — the server certificate is not trusted (check hsa_ldap_ca_file, the "
                "host name in the URI and the certificate's validity)")
    elif "timed out" in detail.lower():
        hint = (f" — no answer within {max(1, int(s.timeout))} s (hsa_ldap_timeout); the "
                "server is down, overloaded or a firewall drops the traffic")
    return f"could not {step} {s.uri}: {detail}{hint}"


def bind_refused(s: LdapSettings, description: str, message: str) -> str:
    who = "client certificate" if s.client_cert else (s.bind_dn or "anonymous")
    return _scrub(
        f"the directory {s.uri} refused the bind as {who}: {description} {message}".strip(), s)


def no_delay(sock) -> None:
    """Send each request at once (TCP_NODELAY). With Nagle's algorithm on, a small request
    written after an unacknowledged one waits for the server's delayed ACK: about 40 ms
    per request/answer turn (the bind, every page of a search) for no gain."""
    with contextlib.suppress(OSError, AttributeError):
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _safe_unbind(conn) -> None:
    # Closing a broken connection may fail; there is nothing left to do then.
    with contextlib.suppress(Exception):
        conn.unbind()


def paged_search(conn, base_dn: str, ldap_filter: str, attributes, page_size: int = PAGE_SIZE,
                 scope: str = "SUBTREE", references: list | None = None) -> Iterator[dict]:
    """Yield entries (dicts with 'dn', 'attributes', 'raw_attributes') of one paged search.

    Referrals and continuation references are never followed. The URLs of continuation
    references (parts of the tree the server refers to another server) are appended to
    ``references`` when a list is given, so the caller can report them: the entries
    there are not in the result. A failed search, and one the server ended early (size,
    time or admin limit: only part of the tree was returned), raises LdapConnectError.
    """
    _ldap3()
    search_scope = {"SUBTREE": ldap3.SUBTREE, "LEVEL": ldap3.LEVEL, "BASE": ldap3.BASE}[scope]
    cookie = None
    while True:
        conn.search(  # aliases are never followed: one could lead out of the base DN
            base_dn, ldap_filter, search_scope=search_scope, attributes=attributes,
            paged_size=page_size, paged_cookie=cookie, dereference_aliases=ldap3.DEREF_NEVER,
        )
        result = conn.result or {}
        code = result.get("result")
        # ldap3's return value only says whether entries came back (False for none, True for
        # a search the server ended with sizeLimitExceeded & co.): check the result code, or
        # a partial read would be taken for the whole tree.
        # 32 = noSuchObject: the base is not there yet (an empty tree), but only as the
        # answer to the first page: later, the base went away in the middle of the read.
        if code not in (0, 32) or (code == 32 and cookie):
            raise LdapConnectError(_search_failure(base_dn, result))
        for entry in conn.response or []:
            kind = entry.get("type")
            if kind == "searchResEntry":
                yield entry
            elif kind == "searchResRef" and references is not None:
                references.extend(entry.get("uri") or [])
        controls = result.get("controls") or {}
        cookie = controls.get("1.2.840.113556.1.4.319", {}).get("value", {}).get("cookie")
        if not cookie:
            return


# Result codes that end a search early: only part of the tree was returned.
_PARTIAL = {3: "timeLimitExceeded", 4: "sizeLimitExceeded", 11: "adminLimitExceeded"}


def _search_failure(base_dn: str, result: dict) -> str:
    code = result.get("result")
    desc = result.get("description") or _PARTIAL.get(code) or f"result code {code}"
    detail = f"{desc} ({code}) {result.get('message') or ''}".strip()
    if code in _PARTIAL:
        return (f"search under {base_dn} stopped early: {detail}. The directory returned only "
                "part of the entries, so nothing was planned or changed; ask the directory "
                "administrator to lift the size/time limit for the bind DN (paged searches)")
    if code == 10:
        refs = ", ".join(result.get("referrals") or []) or "another server"
        return (f"search under {base_dn} failed: the server refers it to {refs} (referral). "
                "The base DN is not held by this server; use the server it refers to as "
                "hsa_ldap_uri. Referrals are never followed")
    if code is None:
        return f"search under {base_dn} failed: the connection was lost ({detail})"
    if code == 32:
        return (f"search under {base_dn} failed: {detail}; the base DN went away while it "
                "was read, so only part of the tree was seen and nothing was planned or "
                "changed; run again")
    return f"search under {base_dn} failed: {detail}"


MANAGE_DSA_IT = "2.16.840.1.113730.3.4.2"  # RFC 3296: referral objects as plain entries


def _ref_key(url: str) -> str:
    """A referral URL without the scope/filter part a server appends (``??sub``)."""
    return url.split("?", 1)[0].rstrip("/").lower()


def locate_referrals(conn, base_dn: str, urls) -> tuple[dict[str, list[str]], list[str]]:
    """Where below ``base_dn`` the continuation references ``urls`` of a search come from.

    A continuation reference only carries the URL of the other server, not the local
    entry that refers there. One search for referral objects (RFC 3296, with the
    ManageDsaIT control, which returns them as plain entries) gives ``{local DN: [ref
    URLs]}``. A URL no referral object carries (the server refused the control, or
    does not keep referral objects) is returned in the second list, unless the DN in
    the URL is itself below ``base_dn`` (then that DN is taken as the local one).
    """
    from urllib.parse import unquote

    located: dict[str, list[str]] = {}
    _ldap3()
    try:
        conn.search(base_dn, "(objectClass=referral)", search_scope=ldap3.SUBTREE,
                    attributes=["ref"], controls=[(MANAGE_DSA_IT, True, None)])
        if (conn.result or {}).get("result") == 0:
            for entry in conn.response or []:
                if entry.get("type") == "searchResEntry":
                    refs = (entry.get("raw_attributes") or {}).get("ref") or []
                    located[entry["dn"]] = [
                        r.decode("utf-8", "replace") if isinstance(r, bytes) else str(r)
                        for r in refs
                    ]
    except (ldap_exc.LDAPException, OSError):
        located = {}
    from .mapping import (
        dn_keys,
    )

    known = {_ref_key(r) for refs in located.values() for r in refs}
    base = dn_keys(base_dn)
    unlocated = []
    for url in dict.fromkeys(urls):
        if _ref_key(url) in known:
            continue
        dn = unquote(urlparse(url).path.lstrip("/"))
        try:
            keys = dn_keys(dn) if dn else []
        except ValueError:
            keys = []
        if keys and keys[-len(base):] == base:
            located.setdefault(dn, []).append(url)
        else:
            unlocated.append(url)
    return located, unlocated


def escape_filter_value(value: str) -> str:
    """Escape a value for use inside an LDAP filter (RFC 4515)."""
    from ldap3.utils.conv import escape_filter_chars

    return escape_filter_chars(value)


def escape_rdn_value(value: str) -> str:
    """Escape a value for use as an RDN value (RFC 4514), including leading/trailing spaces."""
    from ldap3.utils.dn import escape_rdn

    return escape_rdn(value)
