"""The directory edge of the reconciler: read actual state, apply a plan (I/O).

* ``read_entries(conn, base_dn)``: one paged subtree search under ``base_dn`` only,
  asking for the managed attributes (plus ``hsaIdentity`` and ``objectClass``).
* ``read_directory_model(conn, base_dn)``: the same, as a ProviderModel (``entries_to_model``).
* ``apply_plan(conn, plan, reconnect=None)``: operation by operation on one connection;
  transient errors are retried a bounded number of times (reconnecting after a dropped
  connection when ``reconnect`` is given); the first hard failure or conflict stops the
  run; the result says what was applied, what failed and what was not applied.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

from ansible.module_utils.hsa_ldap import paged_search
from ansible.module_utils.hsa_ldap_map import (
    READ_ATTRIBUTES,
    DirectoryEntry,
    entries_to_model,
    make_entry,
)

try:
    import ldap3
    from ldap3.core import exceptions as ldap_exc

    _COMM_ERRORS: tuple = (
        ldap_exc.LDAPCommunicationError,
        ldap_exc.LDAPSocketOpenError,
        ldap_exc.LDAPSessionTerminatedByServerError,
        ldap_exc.LDAPSocketReceiveError,
        ldap_exc.LDAPSocketSendError,
        ldap_exc.LDAPSocketCloseError,
        ldap_exc.LDAPSSLConfigurationError,
        ldap_exc.LDAPStartTLSError,
        OSError,
    )
    _LDAP_ERROR = ldap_exc.LDAPException
except ImportError:  # pragma: no cover - hsa_ldap reports the missing package
    ldap3 = None
    _COMM_ERRORS = (OSError,)
    _LDAP_ERROR = Exception

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
    out = []
    for raw in paged_search(conn, base_dn, "(objectClass=*)", list(attributes)):
        out.append(make_entry(raw["dn"], raw.get("raw_attributes") or {}))
    return out


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

    @property
    def ok(self) -> bool:
        return self.failed is None

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


def apply_plan(
    conn, plan, reconnect=None, retries: int = 3, backoff: float = 0.5, sleep=time.sleep
) -> tuple[ApplyResult, object]:
    """Apply ``plan.operations`` in order. Returns (result, the connection in use).

    ``reconnect()`` opens a new bound connection after a dropped one (None: no reconnect).
    """
    result = ApplyResult()
    ops = list(plan.operations)
    for i, op in enumerate(ops):
        attempt, after_drop, outcome = 0, False, None
        while True:
            attempt += 1
            try:
                if conn is None or getattr(conn, "closed", False):
                    raise _Dropped("the connection is closed")
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
                    conn = None
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
            continue
        result.failed = outcome
        result.not_applied = [
            OpResult(j, o.op, o.dn, o.hsa_id, "not_applied")
            for j, o in enumerate(ops[i + 1 :], i + 1)
        ]
        break
    return result, conn


# --------------------------------------------------------------------------- the whole job


def _write_if_changed(path: str, text: str) -> bool:
    """Write ``text`` to ``path`` (mode 0600 for new files); True when the content changed."""
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return False
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return True


def reconcile(
    model,
    settings,
    *,
    prune: bool = False,
    max_deletes: int = 10,
    check_mode: bool = False,
    export_dir: str | None = None,
    backup_file: str | None = None,
    retries: int = 3,
    connect_fn=None,
) -> dict:
    """Read, plan, and apply / export / only report. Returns the module's result dict.

    ``result["failed"]`` is True with ``result["msg"]`` when nothing could be done safely
    (mapping or plan errors: nothing written) or the apply stopped (conflict or fault:
    ``result["apply"]`` says what was applied and what was not).
    """
    from ansible.module_utils.hsa_ldap import connect
    from ansible.module_utils.hsa_ldap_map import desired_entries
    from ansible.module_utils.hsa_plan import (
        make_plan,
        render_change_csv,
        render_change_request,
        render_entries_ldif,
        render_ldif,
        render_text,
    )

    connect_fn = connect_fn or connect
    base_dn = settings.base_dn
    desired = desired_entries(model, base_dn)
    out: dict = {"changed": False, "failed": False}
    if desired.errors:
        out.update(
            failed=True,
            errors=[str(e) for e in desired.errors],
            msg="the description cannot be mapped to the directory; nothing was written:"
            "\n" + "\n".join(str(e) for e in desired.errors),
        )
        return out

    conn = connect_fn(settings)
    try:
        wanted = ("*",) if backup_file else READ_ATTRIBUTES
        raw = list(paged_search(conn, base_dn, "(objectClass=*)", list(wanted)))
        actual = [make_entry(r["dn"], r.get("raw_attributes") or {}) for r in raw]
        plan = make_plan(desired, actual, base_dn, prune=prune, max_deletes=max_deletes)
        text = render_text(plan)
        out.update(
            plan=plan.to_dict(),
            counts=plan.counts,
            summary=text.splitlines()[-1],
            plan_text=text,
            unmanaged=plan.unmanaged,
            warnings=plan.warnings,
        )
        if plan.errors:
            out.update(
                failed=True,
                errors=plan.errors,
                msg="the plan is refused; nothing was written:\n" + "\n".join(plan.errors),
            )
            return out
        provider = model.provider
        if export_dir:
            files = {
                "plan.ldif": render_ldif(plan),
                "change-request.md": render_change_request(plan, provider.name, provider.hsa_id),
                "change-request.csv": render_change_csv(plan),
            }
            out["export"] = {name: os.path.join(export_dir, name) for name in files}
            if not check_mode:
                os.makedirs(export_dir, exist_ok=True)
                written = [
                    n for n, t in files.items() if _write_if_changed(os.path.join(export_dir, n), t)
                ]
                out["changed"] = bool(written)
            else:
                out["changed"] = True
            return out
        out["changed"] = plan.changed
        if check_mode or not plan.changed:
            return out
        if backup_file:
            entries = [_raw_entry(r) for r in raw]
            _write_if_changed(backup_file, render_entries_ldif(entries))
            out["backup_file"] = backup_file
        result, conn = apply_plan(
            conn, plan, reconnect=lambda: connect_fn(settings), retries=retries
        )
        out["apply"] = result.to_dict()
        out["changed"] = bool(result.applied)
        if not result.ok:
            failed = result.failed
            kind = "conflict" if result.conflict else "failure"
            out.update(
                failed=True,
                msg=(
                    f"apply stopped at operation {failed.index + 1} of {len(plan.operations)} "
                    f"({failed.op} {failed.dn}) with a {kind}: {failed.message}. "
                    f"{len(result.applied)} operations were applied, "
                    f"{len(result.not_applied)} were not; run again to converge."
                ),
            )
        return out
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):  # a dropped connection may not close
                conn.unbind()


def _raw_entry(raw: dict) -> DirectoryEntry:
    """An entry with values kept as bytes when they are not UTF-8 (certificates)."""
    attrs = {}
    for name, values in (raw.get("raw_attributes") or {}).items():
        kept = []
        for v in values:
            try:
                kept.append(v.decode("utf-8") if isinstance(v, bytes) else v)
            except UnicodeDecodeError:
                kept.append(v)
        attrs[name] = tuple(kept)
    return DirectoryEntry(raw["dn"], attrs)
