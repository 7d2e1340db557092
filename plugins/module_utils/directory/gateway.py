"""The directory edge of the reconciler: read actual state, apply a plan (I/O).

* ``read_entries(conn, base_dn)``: one paged subtree search under ``base_dn`` only,
  asking for the managed attributes (plus ``hsaIdentity`` and ``objectClass``).
* ``search_raw(conn, base_dn, attributes)``: that search as ``(dn, {name: [bytes]})``
  pairs. On an ldap3 synchronous connection the search result entries are decoded here
  (a small BER reader for the one message type, no ldap3 formatting: about 5× faster on
  10,000 entries); everything else (sending, TLS, timeouts, results, controls, other
  connection kinds) stays ldap3's, and the result codes are checked as in
  ``hsa_ldap.paged_search``. Continuation references (referrals) are never followed;
  their URLs are collected (``references=``) so ``reconcile`` can refuse the planned
  operations in that part of the tree (``hsa_plan.refuse_referred``).
* ``read_directory_model(conn, base_dn)``: the same, as a ProviderModel (``entries_to_model``).
* ``apply_plan(conn, plan, reconnect=None)``: operation by operation on one connection;
  transient errors are retried a bounded number of times (reconnecting after a dropped
  connection when ``reconnect`` is given); the first hard failure or conflict stops the
  run; the result says what was applied, what failed and what was not applied.
  On a plain ldap3 connection the requests are BER-encoded here (pyasn1 costs more than
  the server's work), and runs of adds of one kind whose parents already exist (the
  people, then the commissions) are sent up to ``WINDOW`` at a time before their answers
  are read. Every answer is still checked; adds in flight together with a failing one
  are reported as applied when the server applied them. Modifies, renames and deletes
  are always sent one at a time, in plan order. With ``report=`` (an ``ApplyReport``)
  every operation gets a line in the apply report as its answer comes in. Ctrl-C, and
  SIGTERM while it applies, end the run as ``interrupted``: what was applied, what was
  in flight (may or may not be applied) and what was not.

``HSA_LDAP_LEAN=0`` in the environment turns both lean paths off (ldap3's public API
only); wrappers, test doubles and connections with a replaced method never use them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from .ldap import (
    PAGE_SIZE,
    LdapConnectError,
    paged_search,
)
from .mapping import (
    READ_ATTRIBUTES,
    DirectoryEntry,
    dn_keys,
    entries_to_model,
    make_entry,
)
from .wire import (
    _read_length,
    _str,
    _tlv,
    decode_entry,
)

# ldap3 is imported on first use (_load_ldap3: the search through an ldap3 connection,
# an apply), not with this module: a no-change plan reads through hsa_wire and never
# needs it (its import costs more than reading 10,000 entries).
ldap3 = None
ldap_exc = None
search_operation = paged_search_control = decode_message_fast = None
_COMM_ERRORS: tuple = (OSError,)
_LDAP_ERROR: type = Exception


def _load_ldap3() -> bool:
    """Import ldap3 and fill in the names above (once). False when it is missing."""
    global ldap3, ldap_exc, search_operation, paged_search_control, decode_message_fast
    global _COMM_ERRORS, _LDAP_ERROR
    if ldap3 is not None:
        return True
    try:
        import ldap3 as _ldap3
        from ldap3.core import exceptions as _exc
        from ldap3.operation.search import search_operation as _search_operation
        from ldap3.protocol.rfc2696 import paged_search_control as _paged_search_control
        from ldap3.utils.asn1 import decode_message_fast as _decode_message_fast
    except ImportError:  # pragma: no cover - hsa_ldap.connect reports the missing package
        return False
    ldap_exc, search_operation = _exc, _search_operation
    paged_search_control, decode_message_fast = _paged_search_control, _decode_message_fast
    _COMM_ERRORS = (
        _exc.LDAPCommunicationError,
        _exc.LDAPSocketOpenError,
        _exc.LDAPSessionTerminatedByServerError,
        _exc.LDAPSocketReceiveError,
        _exc.LDAPSocketSendError,
        _exc.LDAPSocketCloseError,
        _exc.LDAPSSLConfigurationError,
        _exc.LDAPStartTLSError,
        OSError,
    )
    _LDAP_ERROR = _exc.LDAPException
    ldap3 = _ldap3
    return True


# Result codes worth another try: busy, unavailable, timeLimitExceeded, adminLimitExceeded,
# unwillingToPerform is not (it is policy), other (80) is not.
TRANSIENT = {3: "timeLimitExceeded", 11: "adminLimitExceeded", 51: "busy", 52: "unavailable"}
# A modify that meets these was based on values someone else changed since the read.
CONFLICT = {
    16: "noSuchAttribute",
    20: "attributeOrValueExists",
    68: "entryAlreadyExists",
    32: "noSuchObject",
}


def read_entries(conn, base_dn: str, attributes=READ_ATTRIBUTES) -> list[DirectoryEntry]:
    """Every entry in the subtree of ``base_dn`` (one paged search), managed attributes only."""
    return [make_entry(dn, attrs) for dn, attrs in search_raw(conn, base_dn, attributes)]


def search_raw(conn, base_dn: str, attributes=READ_ATTRIBUTES, page_size: int = PAGE_SIZE,
               references: list | None = None):
    """Yield ``(dn, {attribute: [bytes, ...]})`` for every entry of a paged subtree search.

    Continuation references are never followed; their URLs are appended to
    ``references`` when a list is given (that part of the tree is not in the result).
    A failed or truncated search raises LdapConnectError (the same rules as
    ``hsa_ldap.paged_search``).
    """
    if _lean_ok(conn):
        yield from _lean_search(conn, base_dn, list(attributes), page_size, references)
        return
    for raw in paged_search(conn, base_dn, "(objectClass=*)", list(attributes), page_size,
                            references=references):
        yield raw["dn"], raw.get("raw_attributes") or {}


_HOOKABLE = ("search", "add", "modify", "modify_dn", "delete")


def _lean_ok(conn) -> bool:
    """True for a plain ldap3 Connection with the synchronous strategy: the lean path.

    Anything else (a wrapper, a test double, another strategy, a SASL security layer)
    goes through ldap3's public API. ``HSA_LDAP_LEAN=0`` turns the lean path off.
    """
    if os.environ.get("HSA_LDAP_LEAN", "1") == "0" or not _load_ldap3():
        return False
    # Exactly ldap3's class: a subclass may not hold the internals used below.
    if type(conn) is not ldap3.Connection:  # pylint: disable=unidiomatic-typecheck
        return False
    if any(name in vars(conn) for name in _HOOKABLE):  # a method replaced on the instance
        return False
    strategy = conn.strategy
    return (
        type(strategy).__name__ == "SyncStrategy"
        and hasattr(strategy, "receiving")
        and isinstance(getattr(strategy, "_outstanding", None), dict)
        and getattr(conn, "sasl_mechanism", None) != "DIGEST-MD5"
    )


def decode_search_entry(msg: bytes) -> tuple[int, str, dict[str, list[bytes]]] | None:
    """(messageID, DN, attributes) of an LDAPMessage holding a SearchResultEntry, else None.

    The entry itself is decoded by ``hsa_wire.decode_entry`` (RFC 4511 4.5.2).
    """
    if msg[0] != 0x30:
        raise ValueError("not an LDAPMessage")
    _unused, i = _read_length(msg, 1)
    if msg[i] != 0x02:
        raise ValueError("LDAPMessage without messageID")
    n, i = _read_length(msg, i + 1)
    msg_id = int.from_bytes(msg[i : i + n], "big")
    i += n
    if msg[i] != 0x64:  # not [APPLICATION 4] constructed
        return None
    op_len, j = _read_length(msg, i + 1)
    op_end = j + op_len
    if op_end != len(msg) and msg[op_end] != 0xA0:  # only [0] controls may follow
        raise ValueError("malformed SearchResultEntry")
    dn, attrs = decode_entry(msg[i:op_end])
    return msg_id, dn, attrs


def _lean_search(conn, base_dn: str, attributes: list, page_size: int, references=None):
    strategy = conn.strategy
    cookie = None
    while True:
        with conn.connection_lock:
            request = search_operation(
                base_dn, "(objectClass=*)", ldap3.SUBTREE, ldap3.DEREF_NEVER, attributes,
                0, 0, False, conn.auto_escape, conn.auto_encode, None,
                validator=conn.server.custom_validator, check_names=conn.check_names,
            )
            controls = [paged_search_control(False, page_size, cookie)]
            page: list = []
            result = None
            message_id = None
            try:
                message_id = conn.send("searchRequest", request, controls)
                while result is None:
                    messages = strategy.receiving()
                    if not messages:
                        raise ldap_exc.LDAPSessionTerminatedByServerError(
                            "session terminated by server"
                        )
                    for msg in messages:
                        if result is not None:
                            raise ldap_exc.LDAPSocketReceiveError("data after searchResDone")
                        entry = decode_search_entry(msg)
                        if entry is not None:
                            if entry[0] != message_id:
                                raise ldap_exc.LDAPSocketReceiveError("invalid messageId")
                            page.append((entry[1], entry[2]))
                            continue
                        decoded = decode_message_fast(msg)
                        answer = strategy.decode_response_fast(decoded)
                        if int(decoded["messageID"]) == 0:  # unsolicited: notice of disconnection
                            strategy.close()
                            raise ldap_exc.LDAPSessionTerminatedByServerError(
                                "session terminated by server"
                            )
                        if int(decoded["messageID"]) != message_id:
                            raise ldap_exc.LDAPSocketReceiveError("invalid messageId")
                        if answer["type"] == "searchResRef":  # never followed, but noted
                            if references is not None:
                                references.extend(answer.get("uri") or [])
                            continue
                        if answer["type"] == "intermediateResponse":
                            continue
                        result = answer
            except (ValueError, IndexError) as exc:  # UnicodeDecodeError is a ValueError
                with contextlib.suppress(Exception):
                    strategy.close()
                raise LdapConnectError(
                    f"search under {base_dn} failed: an answer of the server could not be "
                    f"read ({exc}); nothing was planned or changed"
                ) from None
            except (*_COMM_ERRORS, _LDAP_ERROR) as exc:
                raise LdapConnectError(
                    f"search under {base_dn} failed: the connection was lost ({exc}); "
                    "nothing was planned or changed"
                ) from None
            finally:
                if isinstance(strategy._outstanding, dict):  # None once the socket is closed
                    strategy._outstanding.pop(message_id, None)
            conn.result = result
            conn.response = None
        code = result.get("result")
        # 32 = noSuchObject: an empty tree, but only as the answer to the first page
        if code not in (0, 32) or (code == 32 and cookie):
            raise LdapConnectError(_search_failure(base_dn, result))
        yield from page
        controls = result.get("controls") or {}
        cookie = controls.get("1.2.840.113556.1.4.319", {}).get("value", {}).get("cookie")
        if not cookie:
            return


def _search_failure(base_dn: str, result: dict) -> str:
    from . import ldap as hsa_ldap

    explain = getattr(hsa_ldap, "_search_failure", None)
    if explain is not None:
        return explain(base_dn, result)
    return (  # pragma: no cover - older hsa_ldap
        f"search under {base_dn} failed: {result.get('description')} "
        f"({result.get('result')}) {result.get('message') or ''}"
    ).strip()


def read_directory_model(conn, base_dn: str):
    """The HSA objects below ``base_dn`` as a ProviderModel (``None`` without a provider).

    Origins are ``Origin(file=<DN>, line=0)``. Used by the readiness report.
    """
    return entries_to_model(read_entries(conn, base_dn), base_dn)


@dataclass
class OpResult:
    index: int
    op: str
    dn: str
    hsa_id: str | None
    status: str  # applied | conflict | failed | not_applied
    message: str = ""
    attempts: int = 0

    def to_dict(self) -> dict:
        d = {
            "index": self.index,
            "op": self.op,
            "dn": self.dn,
            "hsa_id": self.hsa_id,
            "status": self.status,
        }
        if self.message:
            d["message"] = self.message
        return d


@dataclass
class ApplyResult:
    applied: list[OpResult] = field(default_factory=list)
    failed: OpResult | None = None  # the operation that stopped the run (conflict or failure)
    not_applied: list[OpResult] = field(default_factory=list)
    retries: int = 0
    interrupted: bool = False  # Ctrl-C / SIGTERM stopped the run
    unknown: list[OpResult] = field(default_factory=list)  # sent, no answer (may be applied)

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.interrupted

    @property
    def conflict(self) -> bool:
        return self.failed is not None and self.failed.status == "conflict"

    def to_dict(self) -> dict:
        return {
            "applied": len(self.applied),
            "failed": self.failed.to_dict() if self.failed else None,
            "not_applied": len(self.not_applied),
            "not_applied_operations": [r.to_dict() for r in self.not_applied[:50]],
            "retries": self.retries,
            "interrupted": self.interrupted,
            "in_flight": [r.to_dict() for r in self.unknown],
        }


class _Dropped(Exception):
    pass


def _changes_for_ldap3(op) -> dict:
    changes: dict[str, list] = {}
    for c in op.changes:
        steps = changes.setdefault(c.attribute, [])
        if c.delete:
            steps.append((ldap3.MODIFY_DELETE, list(c.delete)))
        if c.add:
            steps.append((ldap3.MODIFY_ADD, list(c.add)))
    return changes


def _send(conn, op) -> tuple[bool, dict]:
    if _lean_ok(conn):
        return _send_lean(conn, op)
    if op.op == "add":
        attrs = {name: list(values) for name, values in op.attributes}
        classes = attrs.pop("objectClass")
        ok = conn.add(op.dn, classes, attrs)
    elif op.op == "modify":
        ok = conn.modify(op.dn, _changes_for_ldap3(op))
    elif op.op == "modrdn":
        ok = conn.modify_dn(op.dn, op.new_rdn, delete_old_dn=True, new_superior=op.new_superior)
    elif op.op == "delete":
        ok = conn.delete(op.dn)
    else:  # pragma: no cover - plans only hold the four kinds
        raise ValueError(op.op)
    return bool(ok), dict(conn.result or {})


# ----------------------------------------------------- lean requests (BER, RFC 4511 4.6-4.9)


def _attribute(name: str, values) -> bytes:
    """PartialAttribute ::= SEQUENCE { type, vals SET OF value }."""
    return _tlv(0x30, _str(name) + _tlv(0x31, b"".join(_str(v) for v in values)))


def encode_request(message_id: int, op) -> bytes:
    """The LDAPMessage for one plan operation (add, modify, modrdn, delete)."""
    dn = _str(op.dn)
    if op.op == "add":  # AddRequest ::= [APPLICATION 8] SEQUENCE { entry, attributes }
        attrs = b"".join(_attribute(name, values) for name, values in op.attributes if values)
        body = _tlv(0x68, dn + _tlv(0x30, attrs))
    elif op.op == "modify":  # ModifyRequest ::= [APPLICATION 6] SEQUENCE { object, changes }
        changes = []
        for c in op.changes:  # operation: add (0), delete (1); never replace
            if c.delete:
                changes.append(_tlv(0x30, b"\x0a\x01\x01" + _attribute(c.attribute, c.delete)))
            if c.add:
                changes.append(_tlv(0x30, b"\x0a\x01\x00" + _attribute(c.attribute, c.add)))
        body = _tlv(0x66, dn + _tlv(0x30, b"".join(changes)))
    elif op.op == "modrdn":  # ModifyDNRequest ::= [APPLICATION 12] SEQUENCE { ... }
        content = dn + _str(op.new_rdn) + b"\x01\x01\xff"  # deleteoldrdn TRUE
        if op.new_superior:
            content += _tlv(0x80, op.new_superior.encode("utf-8"))  # [0] newSuperior
        body = _tlv(0x6C, content)
    elif op.op == "delete":  # DelRequest ::= [APPLICATION 10] LDAPDN
        body = _tlv(0x4A, op.dn.encode("utf-8"))
    else:  # pragma: no cover - plans only hold the four kinds
        raise ValueError(op.op)
    mid = message_id.to_bytes(message_id.bit_length() // 8 + 1, "big")
    return _tlv(0x30, _tlv(0x02, mid) + body)


_RESPONSE_TYPES = {"add": 0x69, "modify": 0x67, "modrdn": 0x6D, "delete": 0x6B}


def _send_lean(conn, op) -> tuple[bool, dict]:
    """Send one operation and wait for its response; ldap3 decodes the response.

    The request is encoded here (ldap3 builds it with pyasn1: most of the time of an
    apply); the socket, TLS, timeouts and response decoding are ldap3's.
    """
    strategy = conn.strategy
    with conn.connection_lock:
        if conn.closed or conn.socket is None or not conn.listening:
            raise _Dropped("the connection is closed")
        message_id = conn.server.next_message_id()
        try:
            conn.socket.sendall(encode_request(message_id, op))
        except OSError as exc:
            with contextlib.suppress(Exception):
                strategy.close()
            raise _Dropped(f"could not send: {exc}") from None
        conn.result = None
        while True:
            messages = strategy.receiving()
            if not messages:
                with contextlib.suppress(Exception):
                    strategy.close()
                raise _Dropped("the server closed the connection")
            for msg in messages:
                decoded = decode_message_fast(msg)
                received = int(decoded["messageID"])
                if received == 0:  # unsolicited notification: notice of disconnection
                    with contextlib.suppress(Exception):
                        strategy.close()
                    raise _Dropped("the server ended the session (notice of disconnection)")
                if received != message_id:
                    raise ldap_exc.LDAPSocketReceiveError("invalid messageId received")
                if decoded["protocolOp"] + 0x60 != _RESPONSE_TYPES[op.op]:
                    raise ldap_exc.LDAPSocketReceiveError("unexpected response type")
                result = strategy.decode_response_fast(decoded)
                conn.result = result
                return result.get("result") == 0, dict(result)


class ApplyReport:
    """The apply report: a JSON-lines file written while the apply runs (``report_file``).

    Lines, each flushed to the file as it is written (a killed process leaves every line
    written so far):

    * ``{"event": "start", ...}``: time, base DN, server, bind identity (never the
      password), the number of operations, the counts per type and the operations
      (``plan``: ``n``, ``op``, ``kind``, ``hsa_id``, ``dn``, in the order they run).
    * ``{"event": "sent", "from": a, "to": b}``: operations a..b (numbered from 1, in
      plan order) were sent to the server; their answers follow.
    * one line per operation once its answer is in: ``n``, ``of``, ``op``, ``kind``,
      ``hsa_id``, ``dn``, ``status`` (applied, conflict, failed) and ``message``.
    * ``{"event": "end", "status": "complete" | "stopped" | "interrupted", ...}``: the
      summary, with the operations not applied and those in flight (may or may not have
      been applied when the run was interrupted).

    Without the end line (the process was killed), the lines above are the report: an
    operation with an ``applied`` line was applied; one that was sent without an answer
    line may or may not have been; every other one was not. A file is appended to, one
    run after the other, so an interrupted run's report survives the re-run.
    """

    def __init__(self, path: str, plan, *, uri: str = "", bind: str = ""):
        self.path = path
        self.ops = list(plan.operations)
        self.written: set[int] = set()
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._line({
            "event": "start",
            "time": _now(),
            "base_dn": plan.base_dn,
            "uri": uri,
            "bind": bind,
            "operations": len(self.ops),
            "counts": plan.counts,
            "plan": [{"n": n, "op": o.op, "kind": o.kind, "hsa_id": o.hsa_id, "dn": o.dn}
                     for n, o in enumerate(self.ops, 1)],
        })

    def _line(self, record: dict) -> None:
        os.write(self.fd, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))

    def sent(self, first: int, last: int) -> None:
        self._line({"event": "sent", "from": first + 1, "to": last + 1})

    def done(self, r: OpResult) -> None:
        if r.index in self.written:
            return
        op = self.ops[r.index]
        record = {"n": r.index + 1, "of": len(self.ops), "op": r.op, "kind": op.kind,
                  "hsa_id": r.hsa_id, "dn": r.dn, "status": r.status, "time": _now()}
        if r.message:
            record["message"] = r.message
        self._line(record)
        self.written.add(r.index)

    def end(self, result: ApplyResult, message: str) -> None:
        for r in result.applied:  # an answer read just before an interrupt
            self.done(r)
        if result.failed is not None:
            self.done(result.failed)
        status = "interrupted" if result.interrupted else "stopped" if result.failed else "complete"
        self._line({
            "event": "end",
            "time": _now(),
            "status": status,
            "message": message,
            "operations": len(self.ops),
            "applied": len(result.applied),
            "applied_operations": _ranges(r.index for r in result.applied),
            "failed": result.failed.to_dict() if result.failed else None,
            "in_flight": [_brief(r) for r in result.unknown],
            "not_applied": len(result.not_applied),
            "not_applied_operations": [_brief(r) for r in result.not_applied],
        })

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _brief(r: OpResult) -> dict:
    return {"n": r.index + 1, "op": r.op, "hsa_id": r.hsa_id, "dn": r.dn}


def _ranges(indices) -> str:
    """``0, 1, 2, 5`` → ``"1-3, 6"`` (operation numbers, from 1)."""
    out: list[str] = []
    start = prev = None
    for n in sorted(i + 1 for i in indices):
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            out.append(f"{start}-{prev}" if prev != start else str(start))
        start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(out)


def apply_summary(result: ApplyResult, total: int) -> str:
    """One message for an apply that did not complete (stopped or interrupted)."""
    if result.interrupted:
        text = (f"interrupted after {len(result.applied)} of {total} operations: "
                f"{len(result.applied)} applied")
        if result.unknown:
            text += (f", {len(result.unknown)} sent without an answer (may or may not have "
                     f"been applied: {_ranges(r.index for r in result.unknown)})")
        return (text + f", {len(result.not_applied)} not applied; run again to converge "
                "(the re-run reads the directory afresh)")
    if result.failed is None:
        return f"{len(result.applied)} of {total} operations applied"
    failed = result.failed
    kind = "conflict" if result.conflict else "failure"
    unknown = ""
    if result.unknown:
        unknown = (f"{len(result.unknown)} were sent without an answer (may or may not have "
                   f"been applied: {_ranges(r.index for r in result.unknown)}), ")
    return (
        f"apply stopped at operation {failed.index + 1} of {total} "
        f"({failed.op} {failed.dn}) with a {kind}: {failed.message}. "
        f"{len(result.applied)} operations were applied, {unknown}"
        f"{len(result.not_applied)} were not; run again to converge."
    )


@contextlib.contextmanager
def _terminate_as_interrupt():
    """While applying, SIGTERM raises KeyboardInterrupt (as Ctrl-C does), so the report
    gets its end line. Only in the main thread (signal handlers live there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_held():
    """Ignore SIGINT/SIGTERM while the outcome of an interrupted apply is written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def apply_plan(
    conn, plan, reconnect=None, retries: int = 3, backoff: float = 0.5, sleep=time.sleep,
    report: ApplyReport | None = None,
) -> tuple[ApplyResult, object]:
    """Apply ``plan.operations`` in order. Returns (result, the connection in use).

    ``reconnect()`` opens a new bound connection after a dropped one (None: no reconnect).
    ``report`` (an ApplyReport) gets a line per operation as its answer comes in.
    Ctrl-C (KeyboardInterrupt), and SIGTERM while this runs, stop the apply: the result
    is then ``interrupted``, with what was applied, what was sent without an answer
    (``unknown``: may or may not have been applied) and what was not applied.
    """
    _load_ldap3()
    result = ApplyResult()
    ops = list(plan.operations)
    answered: dict[int, tuple[bool, dict]] = {}  # answers to operations sent ahead
    in_flight: set[int] = set()  # sent, answer not yet read
    using = {"conn": conn}  # the connection in use (a reconnect replaces it)
    with _terminate_as_interrupt():
        try:
            _apply(using, ops, result, answered, in_flight, reconnect, retries, backoff, sleep,
                   report)
        except KeyboardInterrupt:
            with _signals_held():
                _interrupted(ops, result, answered, in_flight)
                if report is not None:
                    report.end(result, apply_summary(result, len(ops)))
                    report = None
    if report is not None:
        report.end(result, apply_summary(result, len(ops)))
    return result, using["conn"]


def _interrupted(ops, result: ApplyResult, answered, in_flight) -> None:
    result.interrupted = True
    seen = {r.index for r in result.applied}
    if result.failed is not None:
        seen.add(result.failed.index)
    result.not_applied = []  # listed again below, with the rest
    for j, o in enumerate(ops):
        if j in seen:
            continue
        if j in in_flight:  # sent (again), no answer read
            result.unknown.append(OpResult(
                j, o.op, o.dn, o.hsa_id, "unknown",
                "sent, interrupted before the answer: may or may not have been applied"))
        elif j in answered:  # sent ahead in a window, answer read, not yet recorded
            ok, res = answered[j]
            if ok:
                result.applied.append(OpResult(j, o.op, o.dn, o.hsa_id, "applied", "", 1))
            else:
                text = f"{res.get('description')} ({res.get('result')})"
                result.not_applied.append(OpResult(j, o.op, o.dn, o.hsa_id, "not_applied",
                                                   f"refused by the server: {text}"))
        else:
            result.not_applied.append(OpResult(j, o.op, o.dn, o.hsa_id, "not_applied"))
    result.applied.sort(key=lambda r: r.index)


def _apply(using, ops, result, answered, in_flight, reconnect, retries, backoff, sleep, report):
    conn = using["conn"]
    for i, op in enumerate(ops):
        if i not in answered and conn is not None and _lean_ok(conn):
            window = _window(ops, i)
            if len(window) > 1:
                in_flight.update(range(i, i + len(window)))  # for an interrupt mid-send
                if report is not None:
                    report.sent(i, i + len(window) - 1)
                sent: set[int] = set()
                _send_window(conn, window, i, answered, sent)
                in_flight.intersection_update(sent)  # really sent ...
                in_flight.difference_update(answered)  # ... and not answered
        if i not in answered and report is not None:
            report.sent(i, i)
        attempt, after_drop, outcome = 0, False, None
        while True:
            attempt += 1
            try:
                if attempt == 1 and i in answered:
                    ok, res = answered[i]  # dropped once recorded (an interrupt may come)
                elif conn is None or getattr(conn, "closed", False):
                    raise _Dropped("the connection is closed")
                else:
                    in_flight.add(i)
                    ok, res = _send(conn, op)
                if not ok and res.get("result") is None:
                    raise _Dropped(res.get("description") or "no answer from the server")
            except (_Dropped, *_COMM_ERRORS) as exc:
                if attempt > retries or reconnect is None:
                    outcome = OpResult(
                        i, op.op, op.dn, op.hsa_id, "failed", f"connection lost: {exc}", attempt
                    )
                    break
                result.retries += 1
                sleep(backoff * (2 ** (attempt - 1)))
                try:
                    conn = reconnect()
                except Exception as again:
                    conn = using["conn"] = None
                    if attempt >= retries:
                        outcome = OpResult(
                            i,
                            op.op,
                            op.dn,
                            op.hsa_id,
                            "failed",
                            f"connection lost and reconnect failed: {again}",
                            attempt,
                        )
                        break
                using["conn"] = conn
                after_drop = True
                continue
            except _LDAP_ERROR as exc:
                outcome = OpResult(i, op.op, op.dn, op.hsa_id, "failed", str(exc), attempt)
                break
            code = res.get("result")
            if ok or code == 0:
                outcome = OpResult(i, op.op, op.dn, op.hsa_id, "applied", "", attempt)
                break
            text = f"{res.get('description', code)} ({code}) {res.get('message', '')}".strip()
            if code in TRANSIENT and attempt <= retries:
                result.retries += 1
                sleep(backoff * (2 ** (attempt - 1)))
                continue
            if code in CONFLICT and op.op in ("modify", "add", "modrdn", "delete"):
                note = ""
                if after_drop:
                    note = (
                        " — the connection dropped while this operation was sent, so it "
                        "may have been applied before the drop; run again to converge"
                    )
                outcome = OpResult(
                    i,
                    op.op,
                    op.dn,
                    op.hsa_id,
                    "conflict",
                    f"{text}: the entry changed since it was read (someone else edited it); "
                    f"nothing was overwritten{note}",
                    attempt,
                )
                break
            outcome = OpResult(i, op.op, op.dn, op.hsa_id, "failed", text, attempt)
            break
        if outcome.status == "applied":
            result.applied.append(outcome)
            in_flight.discard(i)
            answered.pop(i, None)
            if report is not None:
                report.done(outcome)
            continue
        result.failed = outcome
        in_flight.discard(i)
        if report is not None:
            report.done(outcome)
        for j, o in enumerate(ops[i + 1 :], i + 1):
            if answered.get(j, (False,))[0]:  # sent ahead in the same window and applied
                ahead = OpResult(j, o.op, o.dn, o.hsa_id, "applied", "", 1)
                result.applied.append(ahead)
                if report is not None:
                    report.done(ahead)
            elif j in in_flight and j not in answered:  # sent ahead, the answer never came
                result.unknown.append(OpResult(
                    j, o.op, o.dn, o.hsa_id, "unknown",
                    "sent before the connection was lost, no answer: may or may not have "
                    "been applied"))
            else:
                result.not_applied.append(OpResult(j, o.op, o.dn, o.hsa_id, "not_applied"))
        in_flight.clear()
        break


WINDOW = 64  # adds sent before their answers are read (the server works while we encode)


def _window(ops, start: int) -> list:
    """Operations from ``start`` that may be in flight together: adds of one kind, none
    the parent of another. Anything else (modify, modrdn, delete, a new kind such as the
    commissions after the people) waits until every earlier answer has come back."""
    first = ops[start]
    if first.op != "add":
        return [first]
    window, keys = [], set()
    for op in ops[start : start + WINDOW]:
        if op.op != "add" or op.kind != first.kind:
            break
        dn_key = dn_keys(op.dn)
        if ",".join(dn_key[1:]) in keys:
            break
        keys.add(",".join(dn_key))
        window.append(op)
    return window


def _send_window(conn, window, start: int, answers: dict | None = None,
                 sent: set | None = None) -> dict:
    """Send ``window`` without waiting, then read the answers (any order) into ``answers``
    (by operation index) as they come in, so an interrupt leaves the ones already read.

    Returns ``answers``. When the connection fails part way, the operations without an
    answer are left out: the caller sends them again one by one (after a reconnect),
    and an add that did arrive is then reported as a conflict that "may have been
    applied before the drop", as for a single operation.
    """
    strategy = conn.strategy
    pending: dict[int, tuple[int, object]] = {}
    answers = {} if answers is None else answers
    with conn.connection_lock:
        try:
            for k, op in enumerate(window):
                message_id = conn.server.next_message_id()
                conn.socket.sendall(encode_request(message_id, op))
                pending[message_id] = (start + k, op)
                if sent is not None:
                    sent.add(start + k)
            while pending:
                messages = strategy.receiving()
                if not messages:
                    raise _Dropped("the server closed the connection")
                for msg in messages:
                    decoded = decode_message_fast(msg)
                    index, op = pending.pop(int(decoded["messageID"]), (None, None))
                    if op is None or decoded["protocolOp"] + 0x60 != _RESPONSE_TYPES[op.op]:
                        raise _Dropped("unexpected answer from the server")
                    answer = strategy.decode_response_fast(decoded)
                    answers[index] = (answer.get("result") == 0, dict(answer))
        except (_Dropped, _LDAP_ERROR, OSError):
            with contextlib.suppress(Exception):
                strategy.close()
    return answers


# --------------------------------------------------------------------------- the whole job


# Never copied into a backup: secrets of accounts that happen to live in the tree. The
# reconciler never writes them, so a rollback never needs them.
SECRET_ATTRIBUTES = frozenset(
    {"userpassword", "authpassword", "userpkcs12", "sambantpassword", "sambalmpassword",
     "krbprincipalkey", "pwdhistory"}
)


def _raw_entry(dn, raw_attrs: dict | None = None) -> DirectoryEntry:
    """An entry with values kept as bytes when they are not UTF-8 (certificates);
    password attributes are left out. Takes ``dn, attributes`` or one ``(dn, attributes)``
    pair as ``search_raw`` yields it."""
    if raw_attrs is None and isinstance(dn, tuple):
        dn, raw_attrs = dn
    attrs = {}
    for name, values in (raw_attrs or {}).items():
        if name.split(";", 1)[0].lower() in SECRET_ATTRIBUTES:
            continue
        kept = []
        for v in values:
            try:
                kept.append(v.decode("utf-8") if isinstance(v, bytes) else v)
            except UnicodeDecodeError:
                kept.append(v)
        attrs[name] = tuple(kept)
    return DirectoryEntry(dn, attrs)
