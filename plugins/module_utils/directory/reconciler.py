"""The reconciler: read the directory, plan, then apply, export or only report.

``reconcile(model, settings, ...)`` is what the hsa_reconcile module runs, in five steps
with one function each:

1. ``desired_state``: the entries the description wants (from the model, or from the
   description cache as ``prepared``);
2. ``read_directory``: one paged search through ``client.Connection`` (every run reads,
   decodes and compares the whole subtree);
3. ``plan.make_plan`` and ``refuse_referrals`` (operations in a part of the tree the
   server refers elsewhere are taken out);
4. ``plan_result``: the plan fields of the module's result, and the plan files
   (``PlanOutput``: the whole plan as text and as Markdown, written before anything is
   applied);
5. ``export_plan``, or ``apply`` (``gateway.apply_plan``), or nothing (check mode).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..i18n.core import (
    _,
    ngettext,
)
from ..reports.files import (
    write_atomic,
)
from ..reports.terminal import (
    excerpt,
)
from .client import (
    connect,
    locate_referrals,
)
from .gateway import (
    ApplyReport,
    apply_plan,
    apply_summary,
    backup_entry,
)
from .mapping import (
    DesiredState,
    desired_entries,
    make_entry,
)
from .plan import (
    make_plan,
    refuse_referred,
)
from .plan_text import (
    render_text,
    summary,
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
    output: PlanOutput | None = None,
    request_meta: dict | None = None,
) -> dict:
    """Read, plan, and apply / export / only report. Returns the module's result dict.

    ``result["failed"]`` is True with ``result["msg"]`` when nothing could be done safely
    (mapping or plan errors: nothing written), the apply stopped (conflict, fault or
    interrupt: ``result["apply"]`` says what was applied and what was not), or planned
    operations were refused because the server refers that part of the tree elsewhere
    (``result["refused"]``; the rest of the plan was applied, exported or shown).
    ``report_file`` gets the apply report (``ApplyReport``) when operations are sent;
    check mode and export never write it.

    The description comes as ``model`` (a ProviderModel) or, from the description cache,
    as ``prepared`` (a ``description_cache.CachedDescription``). ``connect_fn(settings)``
    opens a bound ``client.Connection`` (default ``client.connect``). ``output`` says
    which plan files to write and how much of the plan the result carries (default: all
    of it, no files). ``request_meta``: the top of the change request (``requester``,
    ``contact``, ``date``), as hsa_baseline has them.
    """
    desired, provider = desired_state(model, prepared, settings.base_dn)
    if desired.errors:
        errors = [str(e) for e in desired.errors]
        return {"changed": False, "failed": True, "errors": errors,
                "msg": "\n".join([_("The description cannot be turned into entries of the "
                                    "directory; nothing was written to the directory:"),
                                  *errors])}
    link = _Link(settings, connect_fn or connect)
    try:
        read = read_directory(link, settings.base_dn, everything=bool(backup_file))
        plan = make_plan(desired, read.entries, settings.base_dn, prune=prune,
                         max_deletes=max_deletes)
        out: dict = {"changed": False, "failed": False}
        unlocated = refuse_referrals(plan, link, read.references, out)
        known = _Known((*desired.entries, *read.entries),
                       {e.hsa_id for e in desired.entries if e.kind == "person"},
                       dict(request_meta or {}))
        out.update(plan_result(plan, output, provider, known))
        if plan.errors:
            out.update(failed=True, errors=plan.errors,
                       msg="\n".join([_("The plan was stopped; nothing was written to the "
                                        "directory:"), *plan.errors]))
            return out
        if export_dir:
            out.update(export_plan(plan, export_dir, provider, check_mode, known))
            return _refused(out, plan, _("The other changes were exported."))
        out["changed"] = plan.changed
        if check_mode or not plan.changed:
            return _refused(out, plan, _("Nothing was written to the directory (check mode).")
                            if check_mode else _("Nothing else needs to change."))
        out.update(apply(plan, link, read, backup_file=backup_file, retries=retries,
                         report_file=report_file, unlocated=unlocated))
        return _refused(out, plan, _("The other changes were applied."))
    finally:
        link.close()


# --------------------------------------------------------------------------- 1. desired


def desired_state(model, prepared, base_dn: str) -> tuple[DesiredState, tuple[str, str]]:
    """The desired entries and (provider name, provider HSA-id)."""
    if prepared is not None:
        return (DesiredState(entries=prepared.entries),
                (prepared.provider_name, prepared.provider_hsa_id))
    return desired_entries(model, base_dn), (model.provider.name, model.provider.hsa_id)


# --------------------------------------------------------------------------- 2. read


class _Link:
    """The connection of a run: opened when first needed, closed by ``reconcile``."""

    def __init__(self, settings, connect_fn):
        self.settings = settings
        self.connect_fn = connect_fn
        self.conn = None

    def get(self):
        if self.conn is None:
            self.conn = self.connect_fn(self.settings)
        return self.conn

    def reconnect(self):
        return self.connect_fn(self.settings)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class DirectoryRead:
    """One read of the subtree: the entries (managed attributes), every attribute as
    read when a backup was asked for (``raw``), and the continuation references met."""

    entries: list
    raw: list | None = None
    references: list[str] = field(default_factory=list)


def read_directory(link: _Link, base_dn: str, everything: bool = False) -> DirectoryRead:
    """Every entry below ``base_dn``. With ``everything`` (a backup will be written)
    every attribute is read and kept as read."""
    read = DirectoryRead(entries=[])
    attributes = ["*"] if everything else list(READ_ATTRIBUTES)
    found = link.get().search(base_dn, attributes=attributes, references=read.references)
    if everything:
        read.raw = list(found)
        read.entries = [make_entry(dn, attrs) for dn, attrs in read.raw]
    else:
        read.entries = [make_entry(dn, attrs) for dn, attrs in found]
    return read


# --------------------------------------------------------------------------- 3. referrals


def refuse_referrals(plan, link: _Link, references: list[str], out: dict) -> list[str]:
    """Take the planned operations in referred parts of the tree out of ``plan``; note the
    referrals in ``out`` and the plan's warnings. Returns the URLs no entry was found for."""
    if not references:
        return []
    base_dn = link.settings.base_dn
    referred, unlocated = locate_referrals(link.get(), base_dn, references)
    out["referrals"] = [{"dn": dn, "urls": urls} for dn, urls in referred.items()]
    for dn, urls in referred.items():
        plan.warnings.append(_(
            "A part of the directory is held by another server (a referral): it was not "
            "read, and nothing in it is changed. For IT: %(dn)s is a referral to %(urls)s.",
            dn=dn, urls=", ".join(urls)))
    if unlocated:
        out["referrals"].append({"dn": None, "urls": unlocated})
        plan.warnings.append(_(
            "A part of the directory is held by another server (a referral), and the server "
            "would not say which part: it was not read, so adding an entry there fails as "
            "if the entry existed. For IT: below %(base_dn)s, a referral to %(urls)s.",
            base_dn=base_dn, urls=", ".join(unlocated)))
    refuse_referred(plan, referred)
    return unlocated


# --------------------------------------------------------------------------- 4. result


class PlanFileError(Exception):
    """A plan file could not be written (nothing was applied or exported yet)."""


@dataclass
class PlanOutput:
    """What becomes of the plan besides being applied: the files it is written to (also in
    check mode: they are reports, not changes) and how much of it the result carries.

    ``text_file``: the whole plan as text (``render_text``); ``markdown_file``: the plan as
    the Markdown change request (the merge request comment in CI); ``lines``: the result's
    ``plan_text`` holds at most this many lines and then one saying how many more there are
    and where (``text_file``); 0 leaves ``plan_text`` out, None keeps all of it;
    ``operations``: the result carries ``plan`` (every operation, as data). A large plan
    kept out of the result does not travel through Ansible (JSON, templating, callbacks).
    """

    text_file: str | None = None
    markdown_file: str | None = None
    lines: int | None = None
    operations: bool = True


@dataclass
class _Known:
    """What the change request names entries from: the desired and the read entries, and
    the HSA-ids of the people the description holds (the others are leavers)."""

    entries: tuple = ()
    people: set | None = None
    meta: dict = field(default_factory=dict)  # requester, contact, date


def _request(plan, provider: tuple[str, str], known: _Known | None) -> dict:
    from .change_request import (
        build_change_request,
    )

    known = known or _Known()
    return build_change_request(
        plan, meta={**known.meta, "provider_name": provider[0], "provider_id": provider[1]},
        entries=known.entries, described=known.people)


def plan_result(plan, output: PlanOutput | None = None, provider: tuple[str, str] = ("", ""),
                known: _Known | None = None) -> dict:
    """The plan fields of the module's result; the plan files ``output`` asks for.
    ``known``: names for the change request (the Markdown plan file)."""
    output = output or PlanOutput()
    out = {"counts": plan.counts, "summary": summary(plan), "unmanaged": plan.unmanaged,
           "warnings": plan.warnings}
    text = None
    if output.text_file or output.lines != 0:
        text = render_text(plan)
    try:
        if output.text_file:
            write_atomic(output.text_file, text)
        if output.markdown_file:
            from .change_request import (
                render_request_markdown,
            )

            request = _request(plan, provider, known)
            write_atomic(output.markdown_file, render_request_markdown(request))
    except OSError as exc:
        raise PlanFileError(_(
            "The plan file %(path)s could not be written (%(reason)s); nothing was written "
            "to the directory.", path=exc.filename or "", reason=exc.strerror or str(exc))
        ) from None
    if output.lines is None:
        out["plan_text"] = text
    elif output.lines > 0:
        out["plan_text"] = "\n".join(excerpt(text, output.lines, output.text_file)) + "\n"
    if output.operations:
        out["plan"] = plan.to_dict()
    if plan.refused:
        out["refused"] = plan.refused
    return out


def _refused(out: dict, plan, rest: str) -> dict:
    """Fail the result when operations were refused for a referral (after the rest)."""
    if not plan.refused:
        return out
    head = ngettext(
        "%(num)s planned change was stopped: that part of the directory is held by another "
        "server (a referral). %(rest)s",
        "%(num)s planned changes were stopped: that part of the directory is held by another "
        "server (a referral). %(rest)s", len(plan.refused), rest=rest)
    lines = [r["message"] for r in plan.refused]
    out["failed"] = True
    out["msg"] = "\n".join([out["msg"], head, *lines] if out.get("msg") else [head, *lines])
    return out


# --------------------------------------------------------------------------- 5. act


def export_plan(plan, export_dir: str, provider: tuple[str, str], check_mode: bool,
                known: _Known | None = None) -> dict:
    """Write the change request for the HSA agent (ombud) in the current language, as
    hsa_baseline writes it (Markdown, HTML, CSV for Swedish Excel), and the LDIF change
    file. ``known``: names and care units of the entries, and who is described."""
    from ..reports.files import (
        write_if_changed,
    )
    from .change_request import (
        render_request_csv,
        render_request_html,
        render_request_markdown,
    )
    from .plan_ldif import (
        render_ldif,
    )

    request = _request(plan, provider, known)
    files = {
        "change-request.md": render_request_markdown(request),
        "change-request.html": render_request_html(request),
        "change-request.csv": render_request_csv(request),
        "plan.ldif": render_ldif(plan),
    }
    out = {"export": {name: os.path.join(export_dir, name) for name in files}}
    if check_mode:
        out["changed"] = True
        return out
    os.makedirs(export_dir, exist_ok=True)
    written = [n for n, t in files.items()
               if write_if_changed(os.path.join(export_dir, n), t, mode=0o600)]
    out["changed"] = bool(written)
    return out


def apply(plan, link: _Link, read: DirectoryRead, *, backup_file, retries, report_file,
          unlocated) -> dict:
    """Write the backup (when asked for), then apply the plan with an apply report."""
    settings = link.settings
    out: dict = {}
    report = None
    if report_file:
        try:
            report = ApplyReport(report_file, plan, uri=settings.uri, bind=_who(settings))
        except OSError as exc:
            return {"failed": True, "changed": False,
                    "msg": _("The apply report %(path)s could not be written (%(reason)s); "
                             "nothing was written to the directory.", path=report_file,
                             reason=exc.strerror or str(exc))}
        out["report_file"] = report_file
    try:
        if backup_file:
            from ..reports.files import (
                write_if_changed,
            )
            from .plan_ldif import (
                render_entries_ldif,
            )

            entries = [backup_entry(dn, attrs) for dn, attrs in read.raw]
            write_if_changed(backup_file, render_entries_ldif(entries), mode=0o600)
            out["backup_file"] = backup_file
        result, link.conn = apply_plan(link.get(), plan, reconnect=link.reconnect,
                                       retries=retries, report=report)
    finally:
        if report is not None:
            report.close()
    out["apply"] = result.to_dict()
    out["changed"] = bool(result.applied)
    if not result.ok:
        msg = apply_summary(result, len(plan.operations))
        if (unlocated and result.conflict and result.failed.op == "add"
                and "entryAlreadyExists" in result.failed.message):
            msg += " " + _("The entry may be in the part of the directory that another server "
                           "holds (for IT: the read met a referral to %(urls)s).",
                           urls=", ".join(unlocated))
        if report is not None:
            msg += " " + _("The apply report is %(path)s.", path=report_file)
        out.update(failed=True, msg=msg)
    return out


def _who(settings) -> str:
    if settings.client_cert:
        return "client certificate (SASL EXTERNAL)"
    return settings.bind_dn or "anonymous"
