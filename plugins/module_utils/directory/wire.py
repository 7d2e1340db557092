"""A small LDAPv3 client for the one read every plan starts with (no ldap3, no pyasn1).

``open_wire(settings)`` opens, secures and binds one connection with the same policy and
the same messages as ``hsa_ldap.connect`` (StartTLS for ``ldap://``, TLS from the first
byte for ``ldaps://``, the server certificate and host name checked against ``ca_file``
or the system store, simple bind, SASL EXTERNAL with a client certificate, or anonymous).
``WireConnection.search(base_dn, attributes)`` is one paged subtree search that returns
each SearchResultEntry as the bytes the server sent (its protocolOp, from the
``[APPLICATION 4]`` tag on). The reconciler keeps those bytes: an entry whose bytes are
the same as at the last run, when it matched the description, needs no decoding and no
diff (``hsa_plan_cache``); ``decode_entry`` turns the others into ``(dn, {name: [bytes]})``.

Why a client of its own: importing ldap3 takes longer than reading 10,000 entries, and
its per-message receive path costs more than the server's work. Everything that writes
(the apply) still goes through ldap3 (``hsa_gateway``). Continuation references are never
followed; their URLs are collected. Aliases are never dereferenced (an alias could lead
the search out of the base DN). The search ends with an error (LdapConnectError) when the
server ends it early (size, time or admin limit) or the connection drops: a partial read
is never taken for the whole tree.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from urllib.parse import urlparse

from .ldap import (
    PAGE_SIZE,
    LdapConnectError,
    LdapSettings,
    _search_failure,
    bind_refused,
    check_settings,
    connect_failure,
    no_delay,
)

PAGED_RESULTS = b"1.2.840.113556.1.4.319"  # RFC 2696
START_TLS = b"1.3.6.1.4.1.1466.20037"  # RFC 4511 4.14
NOTICE_OF_DISCONNECTION = b"1.3.6.1.4.1.1466.20036"

# RFC 4511 Appendix A: the result codes a read can meet, by name (as ldap3 names them).
RESULT_NAMES = {
    0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded",
    4: "sizeLimitExceeded", 7: "authMethodNotSupported", 8: "strongerAuthRequired",
    10: "referral", 11: "adminLimitExceeded", 12: "unavailableCriticalExtension",
    13: "confidentialityRequired", 14: "saslBindInProgress", 32: "noSuchObject",
    34: "invalidDNSyntax", 48: "inappropriateAuthentication", 49: "invalidCredentials",
    50: "insufficientAccessRights", 51: "busy", 52: "unavailable", 53: "unwillingToPerform",
    80: "other",
}

_RECV_SIZE = 1 << 18


# --------------------------------------------------------------------------- BER


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def _int(n: int, tag: int = 0x02) -> bytes:
    return _tlv(tag, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def _str(value, tag: int = 0x04) -> bytes:
    """An OCTET STRING (or ``tag``): bytes as they are, anything else as UTF-8 text."""
    return _tlv(tag, value if isinstance(value, bytes) else str(value).encode("utf-8"))


def _message(message_id: int, op: bytes, controls: bytes = b"") -> bytes:
    return _tlv(0x30, _int(message_id) + op + controls)


def _read_length(buf, i: int) -> tuple[int, int]:
    """(length, offset of the content) for the length octets at ``buf[i]``."""
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    n = b & 0x7F
    if n == 0 or n > 4:  # indefinite lengths are not allowed in LDAP (RFC 4511 5.1)
        raise ValueError("bad BER length")
    if i + 1 + n > len(buf):
        raise IndexError("truncated BER length")
    return int.from_bytes(buf[i + 1 : i + 1 + n], "big"), i + 1 + n


def _children(buf, start: int, end: int):
    """(tag, content start, content end) of each element in ``buf[start:end]``."""
    i = start
    while i < end:
        tag = buf[i]
        n, j = _read_length(buf, i + 1)
        if j + n > end:
            raise ValueError("BER element overruns its parent")
        yield tag, j, j + n
        i = j + n


def decode_entry(op: bytes) -> tuple[str, dict[str, list[bytes]]]:
    """``(dn, {attribute: [value bytes]})`` of a SearchResultEntry protocolOp.

    SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName LDAPDN,
    attributes SEQUENCE OF SEQUENCE { type, vals SET OF OCTET STRING } } (RFC 4511 4.5.2).
    Raises ValueError for anything else (also for a truncated one).
    """
    try:
        return _decode_entry(op)
    except IndexError:
        raise ValueError("truncated SearchResultEntry") from None


def _decode_entry(op: bytes) -> tuple[str, dict[str, list[bytes]]]:
    if not op or op[0] != 0x64:
        raise ValueError("not a SearchResultEntry")
    n, i = _read_length(op, 1)
    end = i + n
    if end != len(op) or op[i] != 0x04:
        raise ValueError("malformed SearchResultEntry: objectName")
    n, i = _read_length(op, i + 1)
    dn = op[i : i + n].decode("utf-8")
    i += n
    if i >= end or op[i] != 0x30:
        raise ValueError("malformed SearchResultEntry: attributes")
    n, i = _read_length(op, i + 1)
    if i + n != end:
        raise ValueError("malformed SearchResultEntry: attributes")
    attrs: dict[str, list[bytes]] = {}
    while i < end:
        if op[i] != 0x30:  # PartialAttribute
            raise ValueError("malformed SearchResultEntry: attribute")
        n, i = _read_length(op, i + 1)
        aend = i + n
        if op[i] != 0x04:  # type
            raise ValueError("malformed SearchResultEntry: attribute type")
        n, i = _read_length(op, i + 1)
        name = op[i : i + n].decode("utf-8")
        i += n
        if op[i] != 0x31:  # vals
            raise ValueError("malformed SearchResultEntry: values")
        n, i = _read_length(op, i + 1)
        vend = i + n
        if vend != aend or vend > end:
            raise ValueError("malformed SearchResultEntry: value length")
        values = []
        while i < vend:
            if op[i] != 0x04:
                raise ValueError("malformed SearchResultEntry: value")
            b = op[i + 1]
            if b < 0x80:
                i += 2
                values.append(op[i : i + b])
                i += b
            else:
                n, i = _read_length(op, i + 1)
                values.append(op[i : i + n])
                i += n
        if i != vend:
            raise ValueError("malformed SearchResultEntry: value length")
        attrs.setdefault(name, []).extend(values)
    return dn, attrs


def _result(buf, start: int, end: int) -> dict:
    """LDAPResult ::= SEQUENCE { resultCode, matchedDN, diagnosticMessage, [3] referral }."""
    parts = list(_children(buf, start, end))
    if len(parts) < 3 or parts[0][0] != 0x0A:
        raise ValueError("malformed LDAPResult")
    code = int.from_bytes(buf[parts[0][1] : parts[0][2]], "big")
    out = {
        "result": code,
        "description": RESULT_NAMES.get(code, f"result code {code}"),
        "dn": bytes(buf[parts[1][1] : parts[1][2]]).decode("utf-8", "replace"),
        "message": bytes(buf[parts[2][1] : parts[2][2]]).decode("utf-8", "replace"),
        "referrals": [],
    }
    for tag, s, e in parts[3:]:
        if tag == 0xA3:
            out["referrals"] = [bytes(buf[a:b]).decode("utf-8", "replace")
                                for _unused, a, b in _children(buf, s, e)]
    return out


def _paged_cookie(buf, start: int, end: int) -> bytes | None:
    """The cookie of the paged-results control in ``Controls`` (``buf[start:end]``)."""
    for _unused, s, e in _children(buf, start, end):  # Control ::= SEQUENCE
        fields = list(_children(buf, s, e))
        if not fields or bytes(buf[fields[0][1] : fields[0][2]]) != PAGED_RESULTS:
            continue
        value = next((f for f in fields[1:] if f[0] == 0x04), None)
        if value is None:
            raise ValueError("paged-results control without a value")
        seq = list(_children(buf, value[1], value[2]))
        if len(seq) != 1 or seq[0][0] != 0x30:
            raise ValueError("malformed paged-results control")
        inner = list(_children(buf, seq[0][1], seq[0][2]))
        if len(inner) != 2 or inner[1][0] != 0x04:
            raise ValueError("malformed paged-results control")
        return bytes(buf[inner[1][1] : inner[1][2]])
    return None


# --------------------------------------------------------------------------- connection


def _context(s: LdapSettings) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if s.validate_certs:
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        if s.ca_file:
            ctx.load_verify_locations(cafile=s.ca_file)
        else:
            ctx.load_default_certs()
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if s.client_cert:
        ctx.load_cert_chain(s.client_cert, s.client_key)
    return ctx


class SearchAnswer:
    """The answer to one paged search (``WireConnection.read``).

    ``entries``: each SearchResultEntry as protocolOp bytes (cut from the pages when
    first asked for, when they were only compared). ``pages``: per page (when kept), its
    bytes, the cookie that asked for the next one and where its SearchResultDone
    starts. ``unchanged``: every byte was the same as the ``expected`` pages.
    """

    def __init__(self, conn: WireConnection, pages: list | None):
        self._conn = conn
        self.pages = pages
        self.unchanged = False
        self._entries: list[bytes] = []
        self._unframed: list[tuple[int, bytes]] = []  # (message id, page) only compared

    @property
    def entries(self) -> list[bytes]:
        self._frame_unframed(None)
        return self._entries

    def _frame_unframed(self, references) -> None:
        """Cut the pages that were only compared into entries (in order, first)."""
        if not self._unframed:
            return
        conn, later = self._conn, self._entries[:]
        self._entries.clear()
        saved, conn._buf, conn._replay = conn._buf, bytearray(), True
        try:
            for message_id, page in self._unframed:
                conn._buf = bytearray(page)
                conn._read_page(message_id, self._entries, references)
        finally:
            conn._buf, conn._replay = saved, False
        self._unframed.clear()
        self._entries.extend(later)


class WireConnection:
    """One bound connection. Use ``open_wire``; close with ``close()`` (or ``with``)."""

    def __init__(self, settings: LdapSettings, sock):
        self.settings = settings
        self.sock = sock
        self.message_id = 0
        self._buf = bytearray()
        self._log: list[bytes] | None = None  # bytes of the page being read, when kept
        self._logged = 0  # bytes of the page being read that were cut up already
        self._done_at = 0  # where the SearchResultDone of the last page read starts
        self._replay = False  # cutting a kept page into entries: never read the socket

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Unbind and close (quietly: a dropped connection has nothing left to close)."""
        if self.sock is None:
            return
        with contextlib.suppress(OSError):
            self.sock.sendall(_message(self._next_id(), b"\x42\x00"))  # UnbindRequest
        with contextlib.suppress(OSError):
            self.sock.close()
        self.sock = None

    def _next_id(self) -> int:
        self.message_id += 1
        return self.message_id

    # -- reading -------------------------------------------------------------------

    def _fill(self, view: memoryview) -> None:
        got = self.sock.recv_into(view)
        if not got:
            raise ConnectionResetError("the server closed the connection")
        self._buf += view[:got]

    def _one_message(self, message_id: int) -> tuple[int, int, int, int, int, bytes]:
        """Read one whole LDAPMessage for ``message_id``: ``_parse``'s answer and the
        message bytes. For the short exchanges (StartTLS, bind) only."""
        scratch = bytearray(4096)
        view = memoryview(scratch)
        while True:
            buf = self._buf
            if len(buf) >= 2:
                try:
                    n, i = _read_length(buf, 1)
                except IndexError:
                    n, i = -1, 0
                if n >= 0 and len(buf) >= i + n:
                    msg = bytes(buf[: i + n])
                    del buf[: i + n]
                    return (*self._parse(msg, 0, len(msg), message_id), msg)
            self._fill(view)

    @staticmethod
    def _parse(buf, start: int, end: int, message_id: int) -> tuple[int, int, int, int, int]:
        """(op tag, op start, op content start, op content end, message end) of the
        LDAPMessage at ``buf[start:end]``."""
        if buf[start] != 0x30:
            raise ValueError("not an LDAPMessage")
        n, i = _read_length(buf, start + 1)
        mend = i + n
        if buf[i] != 0x02:
            raise ValueError("LDAPMessage without messageID")
        n, i = _read_length(buf, i + 1)
        received = int.from_bytes(buf[i : i + n], "big")
        i += n
        tag = buf[i]
        n, j = _read_length(buf, i + 1)
        if j + n > mend:
            raise ValueError("protocolOp overruns its LDAPMessage")
        if received == 0:  # unsolicited notification (RFC 4511 4.4)
            if tag == 0x78 and NOTICE_OF_DISCONNECTION in bytes(buf[j : j + n]):
                raise ConnectionResetError("the server ended the session (notice of "
                                           "disconnection)")
            raise ValueError("unsolicited notification")
        if received != message_id:
            raise ValueError(f"answer to message {received}, expected {message_id}")
        return tag, i, j, j + n, mend

    # -- operations ----------------------------------------------------------------

    def _start_tls(self, host: str) -> None:
        mid = self._next_id()
        self.sock.sendall(_message(mid, _tlv(0x77, _str(START_TLS, 0x80))))
        tag, _unused, s, e, _unused, msg = self._one_message(mid)
        if tag != 0x78:
            raise ValueError("unexpected answer to StartTLS")
        result = _result(msg, s, e)
        if result["result"] != 0:
            raise LdapConnectError(
                f"StartTLS refused by {self.settings.uri}: {result['description']} "
                f"({result['result']}) {result['message']}".strip())
        if self._buf:
            raise ValueError("data after the StartTLS answer")
        self.sock = _context(self.settings).wrap_socket(self.sock, server_hostname=host)

    def _bind(self) -> None:
        s = self.settings
        if s.client_cert:  # SASL EXTERNAL: the identity comes from the client certificate
            # An empty initial response (authzid ""): use the certificate's identity. Without
            # it the server asks for one (saslBindInProgress).
            auth = _tlv(0xA3, _str("EXTERNAL") + _str(b""))
            name = b""
        elif s.bind_dn:
            auth = _str(s.bind_password or "", 0x80)
            name = s.bind_dn.encode("utf-8")
        else:
            auth = _str(b"", 0x80)
            name = b""
        mid = self._next_id()
        self.sock.sendall(_message(mid, _tlv(0x60, _int(3) + _str(name) + auth)))
        tag, _unused, st, en, _unused, msg = self._one_message(mid)
        if tag != 0x61:
            raise ValueError("unexpected answer to the bind")
        result = _result(msg, st, en)  # BindResponse: LDAPResult + serverSaslCreds [7]
        if result["result"] != 0:
            raise LdapConnectError(bind_refused(s, result["description"], result["message"]))

    def search(self, base_dn: str, attributes, page_size: int = PAGE_SIZE,
               references: list | None = None) -> list[bytes]:
        """Every SearchResultEntry below ``base_dn`` (subtree, ``(objectClass=*)``, one
        paged search) as protocolOp bytes, in the order the server sent them.

        An empty list when the base DN does not exist (noSuchObject). Continuation
        references are appended to ``references``. Raises LdapConnectError when the
        search fails, ends early or the connection is lost.
        """
        return self.read(base_dn, attributes, page_size, references).entries

    def read(self, base_dn: str, attributes, page_size: int = PAGE_SIZE,
             references: list | None = None, expected=None,
             keep_pages: bool = False) -> SearchAnswer:
        """The search of ``search``, as a SearchAnswer.

        ``expected``: the pages of an earlier answer (``SearchAnswer.pages``). While the
        server sends exactly those bytes again, they are only compared, not cut into
        entries; the answer is then ``unchanged`` and its entries are cut from the
        pages only if asked for. At the first byte that differs, the rest is read as
        usual. ``keep_pages`` keeps this answer's pages (for a later ``expected``).
        """
        attrs = _tlv(0x30, b"".join(_str(a) for a in attributes))
        request = _tlv(0x63, _str(base_dn) + b"\x0a\x01\x02\x0a\x01\x00" + _int(0) + _int(0)
                       + b"\x01\x01\x00" + _str("objectClass", 0x87) + attrs)
        answer = SearchAnswer(self, pages=[] if (keep_pages or expected) else None)
        entries = answer._entries
        cookie = b""
        matching = list(expected or ())
        try:
            while True:
                value = _tlv(0x30, _int(page_size) + _str(cookie))
                control = _tlv(0xA0, _tlv(0x30, _str(PAGED_RESULTS) + _str(value)))
                mid = self._next_id()
                self.sock.sendall(_message(mid, request, control))
                sent = cookie
                if matching:
                    page, next_cookie, done_at = matching.pop(0)
                    if self._same_page(page):
                        if _ends_page(page, done_at, mid, next_cookie):
                            answer.pages.append((page, next_cookie, done_at))
                            answer._unframed.append((mid, page))
                            cookie = next_cookie
                            if not cookie:
                                answer.unchanged = not matching
                                return answer
                            continue
                        self._buf += page  # a kept page that is not whole: read it again
                    matching = []  # from here on, read as usual
                answer._frame_unframed(references)
                self._log = [] if answer.pages is not None else None
                self._logged = 0
                result, cookie = self._read_page(mid, entries, references)
                if self._log is not None:
                    answer.pages.append((b"".join(self._log), cookie or b"", self._done_at))
                    self._log = None
                if result["result"] == 32 and not sent:  # noSuchObject on the first
                    entries.clear()  # page: the base is not there (an empty tree)
                    return answer
                if result["result"] != 0:
                    raise LdapConnectError(_search_failure(base_dn, result))
                if not cookie:
                    return answer
        except (ValueError, IndexError) as exc:  # UnicodeDecodeError is a ValueError
            self.close()
            raise LdapConnectError(
                f"search under {base_dn} failed: an answer of the server could not be "
                f"read ({exc}); nothing was planned or changed") from None
        except OSError as exc:  # includes socket timeouts and TLS errors
            self.close()
            detail = str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                detail = (f"no answer within {max(1, int(self.settings.timeout))} s "
                          "(hsa_ldap_timeout)")
            raise LdapConnectError(
                f"search under {base_dn} failed: the connection was lost ({detail}); "
                "nothing was planned or changed") from None

    def _same_page(self, expected: bytes) -> bool:
        """Receive the answer to the page just asked for while it equals ``expected``.

        True when all of it did (the server then sent exactly that page, ending with
        its SearchResultDone). At the first chunk that differs, False, and what was
        received is left in the buffer for ``_read_page``. Never waits for more bytes
        than ``expected`` holds, so a shorter answer is seen as different, not waited
        for.
        """
        if self._buf or not expected:
            return False
        size = len(expected)
        view = memoryview(bytearray(size))
        same = expected.startswith  # compares in place (memcmp), at an offset
        recv = self.sock.recv_into
        pos = 0
        while pos < size:
            n = recv(view[pos:])
            if not n:
                raise ConnectionResetError("the server closed the connection")
            end = pos + n
            if not same(view[pos:end], pos):
                self._buf += view[:end]
                return False
            pos = end
        return True

    def _read_page(self, message_id: int, entries: list, references):
        """Read the answers to search ``message_id`` up to its SearchResultDone, adding
        each entry's protocolOp to ``entries``; (result, paged-results cookie).

        The server sends one TLS record per entry, so this loop runs once per entry: the
        usual message (a short messageID, one- or two-octet lengths, no controls) is cut
        out inline; anything else goes through ``_parse``.
        """
        view = memoryview(bytearray(_RECV_SIZE))
        buf = self._buf
        append = entries.append
        quick = message_id < 0x80  # messageID encoded as 02 01 <id>
        while True:
            pos, size = 0, len(buf)
            while size - pos >= 2:
                b = buf[pos + 1]
                if b == 0x82 and size - pos >= 4:
                    i = pos + 4
                    end = i + (buf[pos + 2] << 8 | buf[pos + 3])
                elif b < 0x80:
                    i = pos + 2
                    end = i + b
                elif b == 0x81 and size - pos >= 3:
                    i = pos + 3
                    end = i + buf[pos + 2]
                else:
                    k = b & 0x7F
                    if k == 0 or k > 4:
                        raise ValueError("bad BER length")
                    if pos + 2 + k > size:
                        break
                    i = pos + 2 + k
                    end = i + int.from_bytes(buf[pos + 2 : i], "big")
                if end > size:
                    break
                if (quick and end - i > 6 and buf[pos] == 0x30 and buf[i] == 0x02
                        and buf[i + 1] == 0x01 and buf[i + 2] == message_id
                        and buf[i + 3] == 0x64):  # a SearchResultEntry of this search
                    o = buf[i + 4]
                    if o == 0x82:
                        oend = i + 7 + (buf[i + 5] << 8 | buf[i + 6])
                    elif o < 0x80:
                        oend = i + 5 + o
                    elif o == 0x81:
                        oend = i + 6 + buf[i + 5]
                    else:
                        oend = -1
                    if oend == end:  # no controls after it
                        append(bytes(buf[i + 3 : end]))
                        pos = end
                        continue
                done = self._other(buf, pos, end, message_id, entries, references)
                if done is not None:
                    if end != size:
                        raise ValueError("data after searchResDone")
                    self._done_at = self._logged + pos
                    if self._log is not None:
                        self._log.append(bytes(buf))
                    del buf[:end]
                    return done
                pos = end
            if self._log is not None and pos:
                self._log.append(bytes(buf[:pos]))
            self._logged += pos
            del buf[:pos]
            if self._replay:
                raise ValueError("a kept page ends without its SearchResultDone")
            got = self.sock.recv_into(view)
            if not got:
                raise ConnectionResetError("the server closed the connection")
            buf += view[:got]

    def _other(self, buf, pos: int, end: int, message_id: int, entries: list, references):
        """Any answer to a search but the usual entry; (result, cookie) for the last one."""
        tag, op, s, e, _unused = self._parse(buf, pos, end, message_id)
        if tag == 0x64:  # SearchResultEntry, with controls or long lengths
            entries.append(bytes(buf[op:e]))
        elif tag == 0x73:  # SearchResultReference: never followed, but noted
            if references is not None:
                references.extend(bytes(buf[a:b]).decode("utf-8", "replace")
                                  for _unused, a, b in _children(buf, s, e))
        elif tag == 0x65:  # SearchResultDone
            result = _result(buf, s, e)
            cookie = None
            if e < end:
                if buf[e] != 0xA0:
                    raise ValueError("malformed controls")
                n, ci = _read_length(buf, e + 1)
                cookie = _paged_cookie(buf, ci, ci + n)
            return result, cookie
        elif tag != 0x79:  # IntermediateResponse is ignored
            raise ValueError(f"unexpected answer (tag {tag:#x}) to a search")
        return None


def _ends_page(page: bytes, done_at: int, message_id: int, cookie: bytes) -> bool:
    """True when ``page`` ends with the SearchResultDone (success) of search
    ``message_id`` at ``done_at``, asking for the next page with ``cookie``: what a kept
    page must be before a read can stop at its end."""
    try:
        tag, _unused, s, e, mend = WireConnection._parse(page, done_at, len(page), message_id)
        if tag != 0x65 or mend != len(page) or _result(page, s, e)["result"] != 0:
            return False
        found = None
        if e < mend:
            if page[e] != 0xA0:
                return False
            n, ci = _read_length(page, e + 1)
            found = _paged_cookie(page, ci, ci + n)
        return (found or b"") == cookie
    except (ValueError, IndexError, OSError):
        return False


def open_wire(settings: LdapSettings) -> WireConnection:
    """Open, secure and bind one connection (see the module docstring)."""
    s = check_settings(settings)
    parsed = urlparse(s.uri)
    use_ssl = parsed.scheme == "ldaps"
    host = parsed.hostname
    port = parsed.port or (636 if use_ssl else 389)
    timeout = max(1, int(s.timeout))
    step = "connect to"
    conn = sock = None
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        no_delay(sock)
        if use_ssl:
            sock = _context(s).wrap_socket(sock, server_hostname=host)
        conn = WireConnection(s, sock)
        if s.start_tls:
            step = "start TLS with"
            conn._start_tls(host)
        step = "bind to"
        conn._bind()
    except LdapConnectError:
        if conn is not None:
            conn.close()
        raise
    except (OSError, ValueError, IndexError) as exc:  # ssl.SSLError is an OSError
        if conn is not None:
            conn.close()
        elif sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        if isinstance(exc, TimeoutError) and not str(exc):
            exc = TimeoutError("timed out")
        raise LdapConnectError(connect_failure(step, exc, s)) from None
    return conn
