"""The directory edge of the reconciler: read actual state, apply a plan.

* ``read_entries(conn, base_dn)``: every entry of one paged subtree search under
  ``base_dn`` (``client.Connection.search``), managed attributes only, as DirectoryEntry.
* ``read_directory_model(conn, base_dn)``: the same, as a ProviderModel (``entries_to_model``).
* ``apply_plan(conn, plan, reconnect=None)``: the operations in plan order on one
  connection. Runs of adds of one kind whose parents already exist (the people, then the
  commissions) are sent up to ``WINDOW`` at a time before their answers are read; every
  other operation waits for the answers before it. Every answer is checked. Transient
  errors are retried a bounded number of times (reconnecting after a lost connection when
  ``reconnect`` is given); the first conflict or hard failure stops the run; the result
  says what was applied, what was sent without an answer ("in flight": may or may not
  have been applied) and what was not applied. With ``report=`` (an ``ApplyReport``)
  every operation gets a line in the apply report as its answer comes in. Ctrl-C, and
  SIGTERM while it applies, end the run as ``interrupted``.
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

from ..i18n.core import _
from .client import (
    PAGE_SIZE,
    Answer,
)
from .mapping import (
    READ_ATTRIBUTES,
    DirectoryEntry,
    dn_keys,
    entries_to_model,
    make_entry,
)

WINDOW = 64  # adds in flight together (the server works while the next ones are sent)


def read_entries(conn, base_dn: str, attributes=READ_ATTRIBUTES,
                 page_size: int = PAGE_SIZE, references: list | None = None,
                 ) -> list[DirectoryEntry]:
    """Every entry in the subtree of ``base_dn`` (one paged search), managed attributes only.

    Continuation references are never followed; their URLs are appended to ``references``
    when a list is given. A failed or truncated search raises LdapConnectError.
    """
    return [make_entry(dn, attrs) for dn, attrs in conn.search(
        base_dn, attributes=list(attributes), page_size=page_size, references=references)]


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
    """One message for an apply that did not complete (stopped or interrupted), in the
    current language: what happened in the reader's words, the counts, what to do."""
    applied, not_applied = len(result.applied), len(result.not_applied)
    if result.interrupted:
        if result.unknown:
            return _(
                "The run was interrupted after %(applied)s of %(total)s changes: %(applied)s "
                "made, %(unknown)s sent without an answer (they may or may not have been "
                "made: changes %(ranges)s), %(not_applied)s not made. Run again to finish "
                "(the new run reads the directory afresh).", applied=applied, total=total,
                unknown=len(result.unknown), ranges=_ranges(r.index for r in result.unknown),
                not_applied=not_applied)
        return _(
            "The run was interrupted after %(applied)s of %(total)s changes: %(applied)s made, "
            "%(not_applied)s not made. Run again to finish (the new run reads the directory "
            "afresh).", applied=applied, total=total, not_applied=not_applied)
    if result.failed is None:
        return _("%(applied)s of %(total)s changes made.", applied=applied, total=total)
    failed = result.failed
    params = {"n": failed.index + 1, "total": total, "what": failed.hsa_id or failed.dn,
              "message": failed.message}
    if result.conflict:
        head = _("The apply stopped at change %(n)s of %(total)s (%(what)s) because of a "
                 "conflict: %(message)s", **params)
    else:
        head = _("The apply stopped at change %(n)s of %(total)s (%(what)s): %(message)s",
                 **params)
    if result.unknown:
        rest = _("%(applied)s changes were made, %(unknown)s were sent without an answer "
                 "(they may or may not have been made: changes %(ranges)s) and "
                 "%(not_applied)s were not. Run again to finish.", applied=applied,
                 unknown=len(result.unknown), ranges=_ranges(r.index for r in result.unknown),
                 not_applied=not_applied)
    else:
        rest = _("%(applied)s changes were made and %(not_applied)s were not. Run again to "
                 "finish.", applied=applied, not_applied=not_applied)
    return f"{head} {rest}"


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

    ``reconnect()`` opens a new bound connection after a lost one (None: no reconnect).
    ``report`` (an ApplyReport) gets a line per operation as its answer comes in.
    Ctrl-C (KeyboardInterrupt), and SIGTERM while this runs, stop the apply: the result
    is then ``interrupted``, with what was applied, what was sent without an answer
    (``unknown``: may or may not have been applied) and what was not applied.
    """
    run = _Apply(conn, list(plan.operations), reconnect, retries, backoff, sleep, report)
    with _terminate_as_interrupt():
        try:
            run.all()
        except KeyboardInterrupt:
            with _signals_held():
                run.interrupted()
                if report is not None:
                    report.end(run.result, apply_summary(run.result, len(run.ops)))
                    report = None
    if report is not None:
        report.end(run.result, apply_summary(run.result, len(run.ops)))
    return run.result, run.conn


class _Apply:
    """One apply: the connection in use, the answers read and the requests in flight."""

    def __init__(self, conn, ops, reconnect, retries, backoff, sleep, report):
        self.conn, self.ops = conn, ops
        self.reconnect, self.retries, self.backoff, self.sleep = reconnect, retries, backoff, sleep
        self.report = report
        self.result = ApplyResult()
        self.answered: dict[int, Answer] = {}  # answers read, outcome not yet recorded
        self.in_flight: set[int] = set()  # sent, no answer read
        self.generation = 0  # connections opened after a lost one
        self.sent_on: dict[int, int] = {}  # operation -> the connection it was last sent on

    def all(self) -> None:
        i = 0
        while i < len(self.ops):
            window = _window(self.ops, i)
            self.send(i, window)
            for j in range(i, i + len(window)):
                outcome = self.settle(j)
                if outcome.status != "applied":
                    self.stop(outcome)
                    return
                self.result.applied.append(outcome)
                if self.report is not None:
                    self.report.done(outcome)
            i += len(window)

    def send(self, start: int, window) -> None:
        """Send ``window`` (operations from ``start``), then read the answers in order
        until the first that does not come (a lost connection: the rest stay in flight)."""
        end = start + len(window)
        # In flight from before the report says "sent" to the answer: an interrupt while
        # the window goes out leaves the report and the result saying the same.
        self.in_flight.update(range(start, end))
        if self.report is not None:
            self.report.sent(start, end - 1)
        sent: list[tuple[int, int]] = []
        for k, op in enumerate(window, start):
            msgid = self._send(k, op)
            if msgid is None:  # the connection is gone: this one and the rest were not sent
                self.in_flight.difference_update(range(k, end))
                break
            sent.append((k, msgid))
        for k, msgid in sent:
            answer = self.conn.answer(msgid)
            if answer.code is None:
                break
            self.answered[k] = answer
            self.in_flight.discard(k)

    def _send(self, k: int, op) -> int | None:
        import ldap

        if self.conn is None:
            self.in_flight.discard(k)
            return None
        self.sent_on[k] = self.generation
        try:
            return self.conn.send(op)
        except ldap.LDAPError:  # the connection is gone: this one was not sent (the
            self.in_flight.discard(k)  # answers to those sent before it are still read)
            return None

    def again(self, j: int) -> Answer:
        """Send operation ``j`` alone and wait for its answer."""
        self.in_flight.add(j)
        if self.report is not None:
            self.report.sent(j, j)
        msgid = self._send(j, self.ops[j])
        if msgid is None:
            return Answer(None, "the connection is closed")
        answer = self.conn.answer(msgid)
        if answer.code is not None:
            self.in_flight.discard(j)
        return answer

    def settle(self, j: int) -> OpResult:
        """The outcome of operation ``j``: its answer, after retries and reconnects."""
        op = self.ops[j]
        answer = self.answered.pop(j, None) or Answer(None, "no answer from the server")
        attempt, after_drop = 1, False
        while True:
            if (answer.code is None and self.sent_on.get(j, -1) < self.generation
                    and self.conn is not None and not self.conn.closed):
                # sent in a window on a connection lost since: send it on the new one
                after_drop = True
                answer = self.again(j)
                continue
            if answer.code is None:  # the connection was lost
                if attempt > self.retries or self.reconnect is None:
                    return _outcome(j, op, "failed", _(
                        "The connection to the directory was lost. For IT: %(op)s %(dn)s: "
                        "%(info)s.", op=op.op, dn=op.dn, info=_bare(answer.info)), attempt)
                self.result.retries += 1
                self.sleep(self.backoff * (2 ** (attempt - 1)))
                if self.conn is not None:
                    self.conn.close()
                try:
                    self.conn = self.reconnect()
                    self.generation += 1
                except Exception as again:
                    self.conn = None
                    if attempt >= self.retries:
                        return _outcome(j, op, "failed", _(
                            "The connection to the directory was lost and could not be opened "
                            "again. For IT: %(op)s %(dn)s: %(error)s.", op=op.op, dn=op.dn,
                            error=_bare(again)), attempt)
                attempt += 1
                after_drop = True
                answer = self.again(j)
                continue
            if answer.ok:
                return _outcome(j, op, "applied", "", attempt)
            if answer.transient and attempt <= self.retries:
                self.result.retries += 1
                self.sleep(self.backoff * (2 ** (attempt - 1)))
                attempt += 1
                answer = self.again(j)
                continue
            if answer.conflict:
                if after_drop:
                    text = _(
                        "The entry is not as it was read, and the connection dropped while "
                        "this change was sent: it may have been made before the drop. Run "
                        "again to finish; nothing was overwritten. For IT: %(op)s %(dn)s: "
                        "%(answer)s.", op=op.op, dn=op.dn, answer=_bare(answer.text()))
                else:
                    text = _(
                        "Someone else changed the entry since it was read; nothing was "
                        "overwritten. For IT: %(op)s %(dn)s: %(answer)s.", op=op.op, dn=op.dn,
                        answer=_bare(answer.text()))
                return _outcome(j, op, "conflict", text, attempt)
            return _outcome(j, op, "failed", _(
                "The directory refused the change. For IT: %(op)s %(dn)s: %(answer)s.",
                op=op.op, dn=op.dn, answer=_bare(answer.text())), attempt)

    def stop(self, outcome: OpResult) -> None:
        """The run stops at ``outcome``: sort out every later operation."""
        result = self.result
        result.failed = outcome
        self.in_flight.discard(outcome.index)
        if self.report is not None:
            self.report.done(outcome)
        for j in range(outcome.index + 1, len(self.ops)):
            o = self.ops[j]
            answer = self.answered.pop(j, None)
            if answer is not None and answer.ok:  # sent ahead in the same window, applied
                ahead = _outcome(j, o, "applied", "", 1)
                result.applied.append(ahead)
                if self.report is not None:
                    self.report.done(ahead)
            elif j in self.in_flight:  # sent ahead, the answer never came
                result.unknown.append(_outcome(j, o, "unknown", _(
                    "Sent before the connection was lost, and no answer came: it may or may "
                    "not have been made."), 0))
            else:
                result.not_applied.append(_outcome(j, o, "not_applied", "", 0))
        self.in_flight.clear()

    def interrupted(self) -> None:
        result = self.result
        result.interrupted = True
        seen = {r.index for r in result.applied}
        if result.failed is not None:
            seen.add(result.failed.index)
        result.not_applied = []  # listed again below, with the rest
        for j, o in enumerate(self.ops):
            if j in seen:
                continue
            answer = self.answered.get(j)
            if j in self.in_flight:  # sent (again), no answer read
                result.unknown.append(_outcome(j, o, "unknown", _(
                    "Sent, but the run was interrupted before the answer: it may or may not "
                    "have been made."), 0))
            elif answer is not None and answer.ok:  # answer read, not yet recorded
                result.applied.append(_outcome(j, o, "applied", "", 1))
            elif answer is not None:
                result.not_applied.append(_outcome(j, o, "not_applied", _(
                    "The directory refused the change. For IT: %(op)s %(dn)s: %(answer)s.",
                    op=o.op, dn=o.dn, answer=_bare(answer.text())), 0))
            else:
                result.not_applied.append(_outcome(j, o, "not_applied", "", 0))
        result.applied.sort(key=lambda r: r.index)


def _bare(detail) -> str:
    """A detail from the server or libldap without its closing full stop (the message
    puts one after it)."""
    return str(detail).rstrip(". ")


def _outcome(j: int, op, status: str, message: str, attempts: int) -> OpResult:
    return OpResult(j, op.op, op.dn, op.hsa_id, status, message, attempts)


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


# --------------------------------------------------------------------------- backup


# Never copied into a backup: secrets of accounts that happen to live in the tree. The
# reconciler never writes them, so a rollback never needs them.
SECRET_ATTRIBUTES = frozenset(
    {"userpassword", "authpassword", "userpkcs12", "sambantpassword", "sambalmpassword",
     "krbprincipalkey", "pwdhistory"}
)


def backup_entry(dn: str, raw_attrs: dict) -> DirectoryEntry:
    """An entry as read for the backup: values kept as bytes when they are not UTF-8
    (certificates); password attributes are left out."""
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
