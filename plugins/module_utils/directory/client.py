"""The toolkit's one LDAP client, on python-ldap (the C bindings to OpenLDAP's libldap,
the library ``ldapsearch`` and ``ldapadd`` use). Every directory read and write goes
through here.

* **Settings** (``LdapSettings``, ``settings_from_env``, ``check_settings``): secure by
  default. ``ldap://`` URIs get StartTLS, ``ldaps://`` URIs TLS from the first byte; the
  server certificate is checked (``OPT_X_TLS_REQUIRE_CERT`` demand: chain to ``ca_file``
  or the system store, validity, host name). Plain LDAP must be asked for with
  ``allow_plaintext``; ``validate_certs=False`` is possible and reported by the callers.
* **Connect** (``connect(settings) -> Connection``): a client certificate (a SITHS
  function certificate) binds with SASL EXTERNAL, a bind DN with a simple bind, nothing
  anonymously. Referrals are never chased (``OPT_REFERRALS`` off), aliases never
  dereferenced (``DEREF_NEVER``), connect and every answer wait at most ``timeout``.
* **Read** (``Connection.search``): one paged search (RFC 2696). Continuation references
  are collected, never followed; a search the server ended early (size, time or admin
  limit), a referral for the base, a base that disappears after the first page and a lost
  connection all raise ``LdapConnectError``: a partial read is never taken as the whole.
* **Write** (``Connection.send`` + ``Connection.answer``): asynchronous requests
  (``add_ext``, ``modify_ext``, ``rename``, ``delete_ext``) and their answers
  (``result3``), so a caller can keep a bounded window of requests in flight.
* **DNs** (``parse_dn``, ``escape_rdn_value``, ``rdn``): ``ldap.dn``.
* **Errors**: ``Answer`` (the outcome of one request) and ``RESULT_NAMES``, the one table
  of LDAP result codes (RFC 4511 appendix A) and what they mean here.

Messages raised from here never contain the bind password.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlparse

from ..i18n.core import _

try:
    import ldap
    import ldap.dn
    import ldap.filter
    from ldap.controls import RequestControl, SimplePagedResultsControl
except ImportError:  # reported by the modules (missing_required_lib) and by connect()
    ldap = None
    LDAP_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    LDAP_IMPORT_ERROR = None

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
MANAGE_DSA_IT = "2.16.840.1.113730.3.4.2"  # RFC 3296: referral objects as plain entries

# --------------------------------------------------------------------------- result codes

# RFC 4511 appendix A, by the names LDAP tools and server logs use.
RESULT_NAMES = {
    0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded",
    4: "sizeLimitExceeded", 7: "authMethodNotSupported", 8: "strongerAuthRequired",
    10: "referral", 11: "adminLimitExceeded", 12: "unavailableCriticalExtension",
    13: "confidentialityRequired", 16: "noSuchAttribute", 17: "undefinedAttributeType",
    18: "inappropriateMatching", 19: "constraintViolation", 20: "attributeOrValueExists",
    21: "invalidAttributeSyntax", 32: "noSuchObject", 33: "aliasProblem",
    34: "invalidDNSyntax", 36: "aliasDereferencingProblem", 48: "inappropriateAuthentication",
    49: "invalidCredentials", 50: "insufficientAccessRights", 51: "busy", 52: "unavailable",
    53: "unwillingToPerform", 54: "loopDetect", 64: "namingViolation",
    65: "objectClassViolation", 66: "notAllowedOnNonLeaf", 67: "notAllowedOnRDN",
    68: "entryAlreadyExists", 69: "objectClassModsProhibited", 71: "affectsMultipleDSAs",
    80: "other",
}
# Worth another try: the server is busy or a limit was hit (not policy: 53 is not).
TRANSIENT = frozenset({3, 11, 51, 52})
# A write that meets these was based on an entry someone else changed since the read.
CONFLICT = frozenset({16, 20, 32, 68})
# A search ended early with these: only part of the tree was returned.
PARTIAL = frozenset({3, 4, 11})


@dataclass(frozen=True)
class Answer:
    """The outcome of one request: the server's result code, or ``code=None`` when no
    answer came (the connection was lost or the server did not answer in time)."""

    code: int | None
    info: str = ""
    referrals: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def name(self) -> str:
        if self.code is None:
            return "no answer"
        return RESULT_NAMES.get(self.code, f"result code {self.code}")

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT

    @property
    def conflict(self) -> bool:
        return self.code in CONFLICT

    def text(self) -> str:
        code = "" if self.code is None else f" ({self.code})"
        return f"{self.name}{code} {self.info}".strip()


def answer_of(exc: ldap.LDAPError) -> Answer:
    """The Answer a python-ldap exception stands for. libldap's own errors (negative
    codes: server down, timeout, connect error) mean no answer came."""
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    code = detail.get("result")
    info = str(detail.get("info") or "")
    referrals: tuple[str, ...] = ()
    if code == 10 and info.startswith("Referral:"):
        referrals = tuple(u for u in info.splitlines()[1:] if u)
        info = ""
    if not isinstance(code, int) or code < 0:
        why = detail.get("desc") or str(exc)
        return Answer(None, f"{why}: {info}" if info else str(why))
    return Answer(code, info, referrals)


# --------------------------------------------------------------------------- settings


class LdapConfigError(ValueError):
    """The connection settings are wrong; the message says which one and how to fix it."""


class LdapConnectError(RuntimeError):
    """The server could not be reached, refused TLS or the bind, or a read failed."""


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

    @property
    def wait(self) -> float:
        """Seconds to wait for a connection or an answer (at least 1)."""
        return max(1.0, float(self.timeout))


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
        raise LdapConfigError(_(
            "The address of the directory is missing: set hsa_ldap_uri (or HSA_LDAP_URI), "
            "e.g. ldaps://hsa.example.se."))
    parsed = urlparse(s.uri)
    if parsed.scheme not in ("ldap", "ldaps") or not parsed.hostname:
        raise LdapConfigError(_(
            "hsa_ldap_uri %(uri)s is not the address of a directory: write ldap://host:389 or "
            "ldaps://host:636.", uri=repr(s.uri)))
    if not s.base_dn:
        raise LdapConfigError(_(
            "The part of the directory to read is not given: set hsa_ldap_base_dn (or "
            "HSA_LDAP_BASE_DN), e.g. c=SE."))
    start_tls = s.start_tls
    if start_tls is None:
        start_tls = parsed.scheme == "ldap"
    if parsed.scheme == "ldaps" and start_tls:
        raise LdapConfigError(_(
            "Turn hsa_ldap_start_tls off with ldaps://: the connection is already encrypted "
            "(TLS)."))
    if parsed.scheme == "ldap" and not start_tls and not s.allow_plaintext:
        raise LdapConfigError(_(
            "The password would be sent unencrypted (in clear text) to %(uri)s: use ldaps://, "
            "keep hsa_ldap_start_tls on, or set hsa_ldap_allow_plaintext: true (only in a "
            "lab).", uri=s.uri))
    if s.client_cert and not s.client_key:
        raise LdapConfigError(_(
            "hsa_ldap_client_cert is set but its key is not: set hsa_ldap_client_key too."))
    for label, path in (("ca_file", s.ca_file), ("client_cert", s.client_cert),
                        ("client_key", s.client_key)):
        if path and not os.path.isfile(path):
            raise LdapConfigError(_("hsa_ldap_%(setting)s: the file %(path)s does not exist.",
                                    setting=label, path=repr(path)))
    if not s.client_cert and s.bind_dn and s.bind_password is None:
        raise LdapConfigError(_(
            "hsa_ldap_bind_dn is set but no password was given: set hsa_ldap_bind_password "
            "from vault, or HSA_LDAP_BIND_PASSWORD."))
    if not s.client_cert and s.bind_dn and s.bind_password == "":
        raise LdapConfigError(_(
            "hsa_ldap_bind_password is empty: a login with a name and no password is an "
            "unauthenticated bind (RFC 4513 5.1.2), which a server may take as anonymous. Set "
            "the password (from vault), or leave hsa_ldap_bind_dn empty for an anonymous "
            "login."))
    return replace(s, start_tls=start_tls)


def _scrub(text: str, s: LdapSettings) -> str:
    if s.bind_password:
        text = text.replace(s.bind_password, "***")
    return text


def connect_failure(step: str, answer: Answer, s: LdapSettings) -> str:
    """The message for a connection that failed at ``step`` ("connect to", "start TLS
    with"): what happened and, for the usual causes, what to check."""
    detail = _scrub(answer.info or answer.name, s).rstrip(". ")
    low = detail.lower()
    label = _STEPS.get(step, step)
    if "timed out" in low or "timeout" in low:
        return _("The directory did not answer within %(wait)s seconds: the server is down or "
                 "overloaded, or a firewall stops the traffic. For IT: %(step)s %(uri)s: no "
                 "answer within %(wait)s s (hsa_ldap_timeout).", wait=format(s.wait, "g"),
                 step=label, uri=s.uri)
    # libldap on GnuTLS says "(unknown error code)" for a failed handshake, on OpenSSL
    # "certificate verify failed"; a StartTLS that fails after the server said yes is the
    # handshake too.
    if (step == "start TLS with" or "unknown error code" in low or "certificate" in low
            or "tls" in low or "ssl" in low):
        return _("No secure connection (TLS) to the directory could be set up: the server's "
                 "certificate is not trusted, or the server refused the client certificate. "
                 "For IT: %(step)s %(uri)s: TLS handshake failed (%(detail)s); check "
                 "hsa_ldap_ca_file, the host name in the URI and the certificate's validity.",
                 step=label, uri=s.uri, detail=detail)
    return _("The directory could not be reached. For IT: %(step)s %(uri)s: %(detail)s.",
             step=label, uri=s.uri, detail=detail)


# The step a connection failed at, for IT (the same words in every language).
_STEPS = {"connect to": "connect", "start TLS with": "StartTLS", "bind to": "bind"}


def bind_refused(s: LdapSettings, answer: Answer) -> str:
    if s.client_cert:
        text = _("The directory refused the login with the client certificate: check that the "
                 "directory knows the certificate. For IT: bind (SASL EXTERNAL) to %(uri)s "
                 "refused: %(answer)s.", uri=s.uri, answer=answer.text().rstrip(". "))
    elif s.bind_dn:
        text = _("The directory refused the login: check the account and its password. For "
                 "IT: bind as %(who)s to %(uri)s refused: %(answer)s.", who=s.bind_dn,
                 uri=s.uri, answer=answer.text().rstrip(". "))
    else:
        text = _("The directory refused an anonymous login: set the account and its password. "
                 "For IT: anonymous bind to %(uri)s refused: %(answer)s.", uri=s.uri,
                 answer=answer.text().rstrip(". "))
    return _scrub(text, s)


# --------------------------------------------------------------------------- connect


def connect(settings: LdapSettings) -> Connection:
    """Open, secure and bind one connection. Raises LdapConnectError with a clear message."""
    s = check_settings(settings)
    _require_ldap()
    tls = s.start_tls or urlparse(s.uri).scheme == "ldaps"
    step = "connect to"
    conn = None
    try:
        conn = ldap.initialize(s.uri)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
        conn.set_option(ldap.OPT_REFERRALS, 0)  # never chased: reported
        conn.set_option(ldap.OPT_DEREF, ldap.DEREF_NEVER)  # an alias could lead out of the base
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, s.wait)
        conn.set_option(ldap.OPT_TIMEOUT, s.wait)
        if tls:
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND
                            if s.validate_certs else ldap.OPT_X_TLS_NEVER)
            conn.set_option(ldap.OPT_X_TLS_PROTOCOL_MIN, ldap.OPT_X_TLS_PROTOCOL_TLS1_2)
            if s.ca_file:
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, s.ca_file)
            if s.client_cert:
                conn.set_option(ldap.OPT_X_TLS_CERTFILE, s.client_cert)
                conn.set_option(ldap.OPT_X_TLS_KEYFILE, s.client_key)
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # last: a TLS context of its own
        if s.start_tls:
            step = "start TLS with"
            conn.start_tls_s()
        step = "bind to"
        if s.client_cert:
            conn.sasl_external_bind_s()  # the identity is the TLS client certificate's
        elif s.bind_dn:
            conn.simple_bind_s(s.bind_dn, s.bind_password)
        else:
            conn.simple_bind_s("", "")
    except ldap.LDAPError as exc:
        answer = answer_of(exc)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.unbind_s()
        if step == "bind to" and answer.code is not None:
            raise LdapConnectError(bind_refused(s, answer)) from None
        if step == "bind to" or isinstance(exc, ldap.SERVER_DOWN):
            step = "connect to"  # the connection (with ldaps:// TLS too) opens on first use
        raise LdapConnectError(connect_failure(step, answer, s)) from None
    return Connection(s, conn, tls)


_SIGNALS = {signal.SIGINT, signal.SIGTERM}
SCOPES = {"base": 0, "one": 1, "subtree": 2}  # ldap.SCOPE_BASE, _ONELEVEL, _SUBTREE (RFC 4511)


class Connection:
    """One bound connection (``ldap``: the python-ldap object) with the rules above."""

    def __init__(self, settings: LdapSettings, conn, tls: bool):
        self.settings = settings
        self.ldap = conn
        self.tls = tls
        self.closed = False

    @staticmethod
    def _call(fn, *args, **kwargs):
        """One python-ldap call with SIGINT and SIGTERM held until it returns.

        python-ldap takes a lock around each call; a KeyboardInterrupt raised inside it
        (Ctrl-C, or SIGTERM while applying) could leave the lock taken, and the next call
        (the unbind) would wait for ever. Held, the signal is handled as soon as the call
        returns (the waits for answers are short steps), in the toolkit's own code.
        """
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            return fn(*args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    # ------------------------------------------------------------------ reads

    def search(self, base_dn: str, filterstr: str = "(objectClass=*)", attributes=None,
               scope: str = "subtree", page_size: int = PAGE_SIZE,
               references: list | None = None, manage_dsa_it: bool = False,
               ) -> Iterator[tuple[str, dict[str, list[bytes]]]]:
        """Yield ``(dn, {attribute: [bytes, ...]})`` for every entry of one paged search.

        Continuation references are never followed; their URLs are appended to
        ``references`` when a list is given (that part of the tree is not in the result).
        A failed search, one the server ended early, a referral for the base, a base that
        went away after the first page and a lost connection raise LdapConnectError.
        """
        attrlist = list(attributes) if attributes is not None else None
        page = SimplePagedResultsControl(False, size=page_size, cookie=b"")
        controls = [page]
        if manage_dsa_it:
            controls.append(RequestControl(MANAGE_DSA_IT, True))
        first = True
        while True:
            try:
                if self.closed:
                    raise ldap.SERVER_DOWN({"result": -1, "desc": "the connection is closed"})
                msgid = self._call(self.ldap.search_ext, base_dn, SCOPES[scope], filterstr,
                                   attrlist, serverctrls=controls)
                _type, data, _msgid, answer_controls = self._result(msgid)
            except ldap.LDAPError as exc:
                answer = answer_of(exc)
                if answer.code == 32 and first:
                    return  # the base is not there (yet): an empty tree
                raise LdapConnectError(search_failure(base_dn, answer, self.settings)) from None
            for dn, attrs in data:
                if dn is not None:
                    yield dn, attrs
                elif references is not None:  # a continuation reference: its URLs
                    references.extend(attrs)
            cookie = next((c.cookie for c in answer_controls
                           if c.controlType == SimplePagedResultsControl.controlType), b"")
            if not cookie:
                return
            page.cookie = cookie
            first = False

    def _result(self, msgid: int):
        """``result3`` for ``msgid`` (all of it), waiting at most ``settings.wait``.

        Waits in short steps, so a signal (Ctrl-C) is handled while the answer is awaited.
        """
        deadline = time.monotonic() + self.settings.wait
        while True:
            if self.closed:
                raise ldap.SERVER_DOWN({"result": -1, "desc": "the connection is closed"})
            step = min(0.5, max(0.01, deadline - time.monotonic()))
            try:
                return self._call(self.ldap.result3, msgid, all=1, timeout=step)
            except ldap.TIMEOUT:
                if time.monotonic() >= deadline:
                    self.close()
                    raise ldap.TIMEOUT({
                        "result": -5, "desc": "Timed out",
                        "info": _("no answer within %(wait)s s (hsa_ldap_timeout)",
                                  wait=format(self.settings.wait, "g")),
                    }) from None

    def whoami(self) -> str:
        """The identity the server bound this connection to (RFC 4532)."""
        return self._call(self.ldap.whoami_s)

    def tls_version(self) -> str | None:
        """The TLS version in use (e.g. ``TLSv1.3``), None on a plain connection."""
        if not self.tls:
            return None
        try:
            return self.ldap.get_option(ldap.OPT_X_TLS_VERSION) or None
        except (ldap.LDAPError, ValueError):
            return None

    # ------------------------------------------------------------------ writes

    def send(self, op) -> int:
        """Send one plan operation (``op``: add, modify, modrdn or delete) without waiting;
        returns its message id. Raises ldap.LDAPError when it cannot be sent."""
        if self.closed:
            raise ldap.SERVER_DOWN({"result": -1, "desc": "the connection is closed"})
        if op.op == "add":
            entry = [(name, _bytes(values)) for name, values in op.attributes if values]
            return self._call(self.ldap.add_ext, op.dn, entry)
        if op.op == "modify":
            mods = []
            for c in op.changes:  # delete the values as read, add the new ones: no replace
                if c.delete:
                    mods.append((ldap.MOD_DELETE, c.attribute, _bytes(c.delete)))
                if c.add:
                    mods.append((ldap.MOD_ADD, c.attribute, _bytes(c.add)))
            return self._call(self.ldap.modify_ext, op.dn, mods)
        if op.op == "modrdn":
            return self._call(self.ldap.rename, op.dn, op.new_rdn, op.new_superior, delold=1)
        if op.op == "delete":
            return self._call(self.ldap.delete_ext, op.dn)
        raise ValueError(op.op)  # pragma: no cover - plans only hold the four kinds

    def answer(self, msgid: int) -> Answer:
        """The answer to request ``msgid``. ``Answer(code=None)`` when none came: the
        connection was lost or the server did not answer within the timeout (the
        connection is then closed: a late answer must not be mistaken for another)."""
        try:
            self._result(msgid)
        except ldap.LDAPError as exc:
            answer = answer_of(exc)
            if answer.code is None:
                self.close()
            return answer
        return Answer(0)

    def replace_values(self, dn: str, attribute: str, values) -> Answer:
        """Replace every value of one attribute (tools: the test PKI's certificates)."""
        mods = [(ldap.MOD_REPLACE, attribute, _bytes(values))]
        return self.answer(self._call(self.ldap.modify_ext, dn, mods))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):  # a dropped connection may not close
                self._call(self.ldap.unbind_ext)

    unbind = close

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _bytes(values) -> list[bytes]:
    return [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values]


def search_failure(base_dn: str, answer: Answer, s: LdapSettings | None = None) -> str:
    """The message for a search that failed or ended early."""
    detail = answer.text().rstrip(". ")
    if s is not None:
        detail = _scrub(detail, s)
    if answer.code in PARTIAL:
        return _("The directory gave only part of the entries (a limit on their number or on "
                 "the time), so nothing was planned or changed. Ask the directory "
                 "administrator to lift the limit for the account. For IT: the search under "
                 "%(base_dn)s stopped early: %(detail)s (paged searches).", base_dn=base_dn,
                 detail=detail)
    if answer.code == 10:
        return _("The part of the directory to read is held by another server (a referral), "
                 "and referrals are never followed. For IT: the search under %(base_dn)s is "
                 "referred to %(refs)s; use that server as hsa_ldap_uri.", base_dn=base_dn,
                 refs=", ".join(answer.referrals) or _("another server"))
    if answer.code is None:
        return _("The connection to the directory was lost while it was read, so nothing was "
                 "planned or changed. Run again. For IT: the search under %(base_dn)s "
                 "failed: %(detail)s.", base_dn=base_dn, detail=detail)
    if answer.code == 32:
        return _("A part of the directory went away while it was read, so only part of it was "
                 "seen and nothing was planned or changed. Run again. For IT: the search "
                 "under %(base_dn)s failed: %(detail)s.", base_dn=base_dn, detail=detail)
    return _("The directory could not be read. For IT: the search under %(base_dn)s failed: "
             "%(detail)s.", base_dn=base_dn, detail=detail)


# --------------------------------------------------------------------------- referrals


def _ref_key(url: str) -> str:
    """A referral URL without the scope/filter part a server appends (``??sub``)."""
    return url.split("?", 1)[0].rstrip("/").lower()


def locate_referrals(conn: Connection, base_dn: str, urls,
                     ) -> tuple[dict[str, list[str]], list[str]]:
    """Where below ``base_dn`` the continuation references ``urls`` of a search come from.

    A continuation reference only carries the URL of the other server, not the local
    entry that refers there. One search for referral objects (RFC 3296, with the
    ManageDsaIT control, which returns them as plain entries) gives ``{local DN: [ref
    URLs]}``. A URL no referral object carries (the server refused the control, or
    does not keep referral objects) is returned in the second list, unless the DN in
    the URL is itself below ``base_dn`` (then that DN is taken as the local one).
    """
    from .mapping import (
        dn_keys,
    )

    located: dict[str, list[str]] = {}
    try:
        for dn, attrs in conn.search(base_dn, "(objectClass=referral)", ["ref"],
                                     manage_dsa_it=True):
            located[dn] = [r.decode("utf-8", "replace") for r in attrs.get("ref", [])]
    except LdapConnectError:
        located = {}
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


# --------------------------------------------------------------------------- DNs, filters


def _require_ldap() -> None:
    if ldap is None:
        raise LdapConnectError(_("The Python package python-ldap is missing on the control "
                                 "node. For IT: pip install python-ldap (see "
                                 "requirements.txt)."))


def escape_filter_value(value: str) -> str:
    """Escape a value for use inside an LDAP filter (RFC 4515)."""
    _require_ldap()
    return ldap.filter.escape_filter_chars(value)


def escape_rdn_value(value: str) -> str:
    """RFC 4514 escaping of an attribute value in a DN (``a,b=c`` -> ``a\\,b\\=c``)."""
    _require_ldap()
    return ldap.dn.escape_dn_chars(value)


def rdn(attribute: str, value: str) -> str:
    return f"{attribute}={escape_rdn_value(value)}"


def parse_dn(dn: str) -> list[list[tuple[str, str]]]:
    """A DN as RDNs, each a list of (attribute, unescaped value). ValueError if invalid."""
    _require_ldap()
    try:
        return [[(a, v) for a, v, _flags in one] for one in ldap.dn.str2dn(dn)]
    except ldap.DECODING_ERROR:
        raise ValueError(f"{dn!r} is not a valid DN") from None
