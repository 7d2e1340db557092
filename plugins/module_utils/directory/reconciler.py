"""The reconciler: read the directory, plan, then apply, export or only report.

``reconcile(model, settings, ...)`` is what the hsa_reconcile module runs. The read goes
through ``hsa_wire`` (or an ldap3 connection a caller hands in), the plan is
``hsa_plan.make_plan``, writes go through ldap3 (``hsa_gateway.apply_plan``). With a
plan cache (``hsa_plan_cache``), a read that is the same, byte for byte, as the last
one that was all in sync is answered without comparing anything.

This module imports the rest of the toolkit when it needs it: a plan the cache answers
never loads the model, the mapping, the diff or ldap3 (an Ansible module compiles every
module it imports on every run; see docs/performance.md).
"""

from __future__ import annotations

import contextlib
import os

from .ldap import (
    LdapConnectError,
)
from .schema import (
    READ_ATTRIBUTES,
)


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
    report_file: str | None = None,
    prepared=None,
    cache=None,
) -> dict:
    """Read, plan, and apply / export / only report. Returns the module's result dict.

    ``result["failed"]`` is True with ``result["msg"]`` when nothing could be done safely
    (mapping or plan errors: nothing written), the apply stopped (conflict, fault or
    interrupt: ``result["apply"]`` says what was applied and what was not), or planned
    operations were refused because the server refers that part of the tree elsewhere
    (``result["refused"]``; the rest of the plan was applied, exported or shown).
    ``report_file`` gets the apply report (``ApplyReport``) when operations are sent;
    check mode and export never write it.

    The description comes as ``model`` (a ProviderModel) or, from the plan cache, as
    ``prepared`` (an ``hsa_plan_cache.CachedDescription``). The directory is read through
    ``hsa_wire`` unless ``connect_fn`` is given (then through that ldap3-style connection)
    or ``HSA_LDAP_LEAN=0``; writes always go through ldap3 (``connect_fn`` or
    ``hsa_ldap.connect``). With ``cache`` (an ``hsa_plan_cache.PlanCache``), entries the
    server sends exactly as at the last run, when they matched, are not compared again,
    and this run's matches are kept for the next one.
    """
    # The mapping, the diff and ldap3 are imported below only where a plan needs them.
    base_dn = settings.base_dn
    out: dict = {"changed": False, "failed": False}
    if prepared is not None:
        provider_name, provider_hsa_id = prepared.provider_name, prepared.provider_hsa_id
        fingerprints = prepared.fingerprints
        desired = None  # unpacked from the cache only when the facts do not answer
    else:
        from .mapping import (
            desired_entries,
        )

        desired = desired_entries(model, base_dn)
        provider_name, provider_hsa_id = model.provider.name, model.provider.hsa_id
        fingerprints = None
        if desired.errors:
            out.update(
                failed=True,
                errors=[str(e) for e in desired.errors],
                msg="the description cannot be mapped to the directory; nothing was "
                "written:\n" + "\n".join(str(e) for e in desired.errors),
            )
            return out
        if cache is not None:
            from .plan_cache import (
                fingerprint,
            )

            fingerprints = [fingerprint(e) for e in desired.entries]

    wanted = ("*",) if backup_file else READ_ATTRIBUTES
    # Only reads of the managed attributes are kept: a read for a backup asks for every
    # attribute (the password hashes of accounts in the tree too) and is never cached.
    kept = cache if wanted == READ_ATTRIBUTES else None
    references: list[str] = []
    link = _Link(settings, connect_fn)
    raw_ops: list[bytes] | None = None
    raw: list | None = None
    facts: dict[bytes, bytes] = {}
    plan = None
    fast = False
    if connect_fn is None and os.environ.get("HSA_LDAP_LEAN", "1") != "0":
        from .plan_cache import (
            all_in_sync,
        )
        from .wire import (
            open_wire,
        )

        seen = None
        if kept is not None and fingerprints:
            seen = kept.load_seen(settings.uri, base_dn, wanted, fingerprints)
        with open_wire(settings) as wire:
            answer = wire.read(base_dn, wanted, references=references,
                               expected=seen[0] if seen else None,
                               keep_pages=kept is not None)
        # The same bytes as the last read that was all in sync: nothing to compare.
        fast = answer.unchanged and not references
        if fast and export_dir is None:
            out.update(seen[1])  # the plan without changes, as it was rendered then
            out["cache"] = _cache_use(model, len(fingerprints), 0)
            return out
        if not fast:
            raw_ops = answer.entries
            if kept is not None:
                facts = kept.load_sync(settings.uri, base_dn, wanted)
                fast = not references and all_in_sync(raw_ops, facts, fingerprints)
                if fast:
                    kept.store_seen(settings.uri, base_dn, wanted, fingerprints,
                                    answer.pages, empty_result(base_dn))
        if not fast:
            if desired is None:
                desired = _desired(prepared)
            actual = _actual_entries(raw_ops, desired.entries, fingerprints, facts)
    else:
        from .gateway import (
            search_raw,
        )
        from .mapping import (
            make_entry,
        )

        if desired is None:
            desired = _desired(prepared)
        try:
            raw = list(search_raw(link.get(), base_dn, wanted, references=references))
        except BaseException:
            link.close()
            raise
        actual = [make_entry(dn, attrs) for dn, attrs in raw]
    from .mapping import (
        TwinEntry,
    )
    from .plan import (
        Plan,
        make_plan,
    )

    try:
        if fast:
            plan = Plan(base_dn=base_dn)  # every entry read is known to match: no change
        else:
            plan = make_plan(desired, actual, base_dn, prune=prune, max_deletes=max_deletes)
            if kept is not None and raw_ops is not None:
                from .plan_cache import (
                    BASE_ENTRY,
                )

                op_of = {id(a): op for a, op in zip(actual, raw_ops, strict=True)}
                fp_of = {id(e): fp for e, fp in zip(desired.entries, fingerprints, strict=True)}
                new_facts = {op_of[id(a)]: fp_of[id(w)] for w, a in plan.in_sync
                             if _exact(w, a)}
                new_facts.update((op_of[id(a)], BASE_ENTRY) for a in plan.base_entries)
                # Only this read's facts are kept: those of entries since changed go.
                kept.store_sync(settings.uri, base_dn, wanted, new_facts, before=facts)
                if not references and all_in_sync(raw_ops, new_facts, fingerprints):
                    kept.store_seen(settings.uri, base_dn, wanted, fingerprints,
                                    answer.pages, empty_result(base_dn))
        if cache is not None:
            twins = len(fingerprints) if fast else sum(
                1 for a in actual if isinstance(a, TwinEntry))
            out["cache"] = _cache_use(model, twins, 0 if fast else len(actual) - twins)
        return _conclude(plan, out, link, references, raw, raw_ops, provider_name,
                         provider_hsa_id, check_mode=check_mode, export_dir=export_dir,
                         backup_file=backup_file, retries=retries, report_file=report_file)
    finally:
        link.close()


def _cache_use(model, in_sync: int, compared: int) -> dict:
    """The module's ``cache`` result: the description came from the cache when no model
    was read, and how many entries were known to be in sync or compared."""
    return {"description": "hit" if model is None else "miss", "entries_in_sync": in_sync,
            "entries_compared": compared}


def _exact(want, entry) -> bool:
    """True when ``entry`` holds exactly what ``want`` describes, spelled the same (DN,
    every value, in order), so that a TwinEntry of ``want`` can stand in for it. An entry
    that only matches (other case, spaces, order) is in sync but stays compared."""
    from .mapping import (
        TwinEntry,
    )

    if isinstance(entry, TwinEntry):
        return True
    return entry.dn == want.dn and entry.attributes == {
        "objectClass": tuple(want.object_classes),
        **{k: tuple(v) for k, v in want.attributes.items() if v}}


def _desired(prepared):
    from .mapping import (
        DesiredState,
    )

    return DesiredState(entries=prepared.entries)


def _default_connect():
    from .ldap import (
        connect,
    )

    return connect


def _actual_entries(raw_ops, wants, fingerprints, facts) -> list:
    """The entries read as ``raw_ops``: a TwinEntry for each one ``facts`` knows to match
    a desired entry (not decoded), else a DirectoryEntry."""
    from .mapping import (
        TwinEntry,
        make_entry,
    )
    from .wire import (
        decode_entry,
    )
    by_fp = dict(zip(fingerprints, wants, strict=True)) if (facts and fingerprints) else {}
    actual = []
    for op in raw_ops:
        want = by_fp.get(facts.get(op)) if by_fp else None
        if want is not None:
            actual.append(TwinEntry(want))
            continue
        try:
            actual.append(make_entry(*decode_entry(op)))
        except ValueError as exc:  # UnicodeDecodeError is a ValueError
            raise LdapConnectError(
                f"an entry the server sent could not be read ({exc}); nothing was "
                "planned or changed") from None
    return actual


class _Link:
    """The ldap3 connection of a run: opened when first needed (a referral to locate,
    an apply), closed by ``reconcile``."""

    def __init__(self, settings, connect_fn, conn=None):
        self.settings = settings
        self.connect_fn = connect_fn or _default_connect()
        self.conn = conn

    def get(self):
        if self.conn is None:
            self.conn = self.connect_fn(self.settings)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # a dropped connection may not close
                self.conn.unbind()
            self.conn = None


def _conclude(plan, out, link, references, raw, raw_ops,
              provider_name, provider_hsa_id, *, check_mode, export_dir, backup_file,
              retries, report_file) -> dict:
    """Everything after the plan: referrals, rendering, export, apply (see reconcile)."""
    from .change_request import (
        render_change_csv,
        render_change_request,
    )
    from .gateway import (
        ApplyReport,
        _raw_entry,
        apply_plan,
        apply_summary,
    )
    from .plan import (
        refuse_referred,
    )
    from .plan_ldif import (
        render_entries_ldif,
        render_ldif,
    )
    from .plan_text import (
        render_text,
    )

    settings = link.settings
    base_dn = settings.base_dn
    connect_fn = link.connect_fn
    unlocated: list[str] = []
    if references:
        from .ldap import (
            locate_referrals,
        )

        referred, unlocated = locate_referrals(link.get(), base_dn, references)
        out["referrals"] = [{"dn": dn, "urls": urls} for dn, urls in referred.items()]
        for dn, urls in referred.items():
            plan.warnings.append(
                f"{dn} is a referral to {', '.join(urls)}: that part of the tree is held "
                "by another server; it was not read, and nothing at or below it is "
                "written"
            )
        if unlocated:
            out["referrals"].append({"dn": None, "urls": unlocated})
            plan.warnings.append(
                f"the server refers part of the tree below {base_dn} to "
                f"{', '.join(unlocated)} (referral), and would not say where; that part "
                "was not read, so an add there fails as if the entry existed"
            )
        refuse_referred(plan, referred)
    text = render_text(plan)
    out.update(
        plan=plan.to_dict(),
        counts=plan.counts,
        summary=text.splitlines()[-1],
        plan_text=text,
        unmanaged=plan.unmanaged,
        warnings=plan.warnings,
    )
    if plan.refused:
        out["refused"] = plan.refused
    if plan.errors:
        out.update(
            failed=True,
            errors=plan.errors,
            msg="the plan is refused; nothing was written:\n" + "\n".join(plan.errors),
        )
        return out
    if export_dir:
        files = {
            "plan.ldif": render_ldif(plan),
            "change-request.md": render_change_request(plan, provider_name, provider_hsa_id),
            "change-request.csv": render_change_csv(plan),
        }
        out["export"] = {name: os.path.join(export_dir, name) for name in files}
        if not check_mode:
            from ..reports.files import (
                write_if_changed,
            )

            os.makedirs(export_dir, exist_ok=True)
            written = [n for n, t in files.items()
                       if write_if_changed(os.path.join(export_dir, n), t, mode=0o600)]
            out["changed"] = bool(written)
        else:
            out["changed"] = True
        return _refused(out, plan, "the other changes were exported")
    out["changed"] = plan.changed
    if check_mode or not plan.changed:
        return _refused(out, plan, "nothing was written" if check_mode else
                        "nothing else needs to change")
    report = None
    if report_file:
        try:
            report = ApplyReport(report_file, plan, uri=settings.uri, bind=_who(settings))
        except OSError as exc:
            out.update(failed=True, changed=False,
                       msg=f"cannot write the apply report {report_file}: {exc}; "
                       "nothing was written")
            return out
        out["report_file"] = report_file
    try:
        if backup_file:
            from ..reports.files import (
                write_if_changed,
            )

            if raw is None:
                from .wire import (
                    decode_entry,
                )

                raw = [decode_entry(op) for op in raw_ops]
            entries = [_raw_entry(r) for r in raw]
            write_if_changed(backup_file, render_entries_ldif(entries), mode=0o600)
            out["backup_file"] = backup_file
        result, link.conn = apply_plan(
            link.get(), plan, reconnect=lambda: connect_fn(settings), retries=retries,
            report=report,
        )
    finally:
        if report is not None:
            report.close()
    out["apply"] = result.to_dict()
    out["changed"] = bool(result.applied)
    if not result.ok:
        msg = apply_summary(result, len(plan.operations))
        if (unlocated and result.conflict and result.failed.op == "add"
                and "entryAlreadyExists" in result.failed.message):
            msg += (f" The read met a referral to {', '.join(unlocated)}: the entry may be "
                    "in the part of the tree the server refers elsewhere.")
        if report is not None:
            msg += f" The apply report is {report_file}."
        out.update(failed=True, msg=msg)
    return _refused(out, plan, "the other changes were applied")


def _who(settings) -> str:
    if settings.client_cert:
        return "client certificate (SASL EXTERNAL)"
    return settings.bind_dn or "anonymous"


def _refused(out: dict, plan, rest: str) -> dict:
    """Fail the result when operations were refused for a referral (after the rest)."""
    if not plan.refused:
        return out
    head = (f"{len(plan.refused)} planned operation(s) refused: the server refers that part "
            f"of the tree to another server (referral); {rest}:")
    lines = [r["message"] for r in plan.refused]
    out["failed"] = True
    out["msg"] = "\n".join([out["msg"], head, *lines] if out.get("msg") else [head, *lines])
    return out


def empty_result(base_dn: str) -> dict:
    """The plan fields of the module's result for a plan without changes (what
    ``_conclude`` gives for ``Plan(base_dn)``), kept by the plan cache with the read."""
    from .plan import (
        Plan,
    )
    from .plan_text import (
        render_text,
    )

    plan = Plan(base_dn=base_dn)
    text = render_text(plan)
    return {"plan": plan.to_dict(), "counts": plan.counts, "summary": text.splitlines()[-1],
            "plan_text": text, "unmanaged": [], "warnings": []}
