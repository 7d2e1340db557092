"""Plan without a directory: from a baseline description to the current one (ombud mode).

Most private care providers reach HSA only through an HSA agent (ombud) who registers the
changes in HSA Admin. Their desired state is in git; what HSA holds is what the ombud last
confirmed: a *baseline* description. ``baseline_plan`` diffs the two with the same planner
as a directory run (``plan.make_plan``: objects matched by HSA-id, the same attributes,
the same matching rules), with no LDAP at all.

A baseline is one of:

* ``none`` (or ``empty``): nothing registered yet; everything is new;
* a folder (or file) holding a description;
* a git ref (``origin/main``, ``HEAD~1``, a tag such as ``hsa-confirmed``, a commit) of the
  repository that holds the current description: the description at that ref is read with
  ``git archive`` (the same path inside the repository). If the path did not exist at
  that ref, the baseline is empty.

The errors and notes are in the current language (``i18n.core.use_language``); git's own
messages are quoted as git wrote them.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass

from ..i18n.core import _
from .mapping import DirectoryEntry, desired_entries
from .plan import Plan, make_plan

EMPTY = ("none", "empty")
DEFAULT_BASE_DN = "c=SE"  # only shapes the DNs in the plan; nothing is read or written


class BaselineError(Exception):
    """The baseline cannot be read (unknown ref, not a git repository, invalid description)."""


@dataclass
class Baseline:
    label: str  # what the change request says it is ("hsa-confirmed (1a2b3c4, 2026-11-30)")
    model: object  # ProviderModel, or None for an empty baseline
    findings: list
    note: str = ""


def _git(args: list[str], cwd: str, binary: bool = False):
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False,
                              timeout=120)
    except FileNotFoundError as exc:
        raise BaselineError(_("git is not installed: a git ref as baseline (hsa_baseline) "
                              "needs it")) from exc
    if binary:
        return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace").strip()
    return (proc.returncode, proc.stdout.decode("utf-8", "replace").strip(),
            proc.stderr.decode("utf-8", "replace").strip())


def _load(path: str, strict_ids: bool):
    from ..description.model import load_provider

    return load_provider(path, strict_ids=strict_ids)


def read_baseline(baseline: str, provider_path: str, strict_ids: bool = True) -> Baseline:
    """The baseline description (see the module docstring)."""
    ref = (baseline or "").strip()
    if not ref:
        raise BaselineError(_("hsa_baseline is empty: give a git ref, a folder, or none"))
    if ref.lower() in EMPTY:
        return Baseline(label=ref, model=None, findings=[],
                        note=_("empty baseline: everything in the description is new"))
    if os.path.exists(ref):
        loaded = _load(ref, strict_ids)
        return _checked(loaded, ref, os.path.abspath(ref))

    current = os.path.abspath(provider_path)
    where = current if os.path.isdir(current) else os.path.dirname(current)
    rc, top, err = _git(["rev-parse", "--show-toplevel"], where)
    if rc != 0:
        raise BaselineError(_(
            "hsa_baseline %(ref)s is not a folder, and %(where)s is not in a git repository "
            "(%(error)s); give a folder, a git ref of the repository holding the description, "
            "or none", ref=repr(ref), where=where, error=err))
    rc, commit, _err = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)
    if rc != 0:
        raise BaselineError(_(
            "hsa_baseline %(ref)s is neither a folder nor a git ref of %(top)s (is the tag "
            "fetched? in CI fetch the full history and tags); for a care provider with "
            "nothing registered in HSA yet, use hsa_baseline=none", ref=repr(ref), top=top))
    _rc, stamp, _err = _git(["show", "-s", "--format=%cs", commit], top)
    label = f"{ref} ({commit[:10]}, {stamp})" if ref != commit else f"{commit[:10]} ({stamp})"
    rel = os.path.relpath(os.path.realpath(current), os.path.realpath(top))
    if rel.startswith(".."):
        raise BaselineError(_("the description %(path)s is not inside the git repository "
                              "%(top)s", path=current, top=top))
    rel = "." if rel == "." else rel.replace(os.sep, "/")
    _rc, listing, _err = _git(["ls-tree", "--name-only", commit, "--", rel], top)
    if not listing:
        return Baseline(label=label, model=None, findings=[],
                        note=_("%(path)s did not exist at %(ref)s: everything in the "
                               "description is new", path=rel, ref=ref))
    rc, data, err = _git(["archive", "--format=tar", commit, "--", rel], top, binary=True)
    if rc != 0:
        raise BaselineError(_("git archive %(ref)s %(path)s failed: %(error)s", ref=ref,
                              path=rel, error=err))
    folder = tempfile.mkdtemp(prefix="hsa-baseline-")
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(folder, filter="data")
        loaded = _load(os.path.join(folder, rel), strict_ids)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _checked(loaded, label, _("%(path)s at %(ref)s", path=rel, ref=ref))


def _checked(loaded, label: str, where: str) -> Baseline:
    if loaded.model is None:
        errors = "\n".join(str(f) for f in loaded.errors) or _("no description found")
        raise BaselineError(_("the baseline description (%(where)s) is not valid:",
                              where=where) + "\n" + errors)
    return Baseline(label=label, model=loaded.model, findings=loaded.findings)


def baseline_entries(model, base_dn: str) -> list[DirectoryEntry]:
    """The baseline as if a directory held it: its entries with every managed value."""
    if model is None:
        return []
    state = desired_entries(model, base_dn)
    if state.errors:
        raise BaselineError(_("the baseline description cannot be mapped to HSA entries:")
                            + "\n" + "\n".join(str(e) for e in state.errors))
    out = []
    for e in state.entries:
        attrs = {"objectClass": tuple(e.object_classes)}
        attrs.update((k, v) for k, v in e.attributes.items() if v)
        out.append(DirectoryEntry(e.dn, attrs))
    return out


def baseline_plan(current_model, baseline: Baseline, base_dn: str = DEFAULT_BASE_DN) -> Plan:
    """The operations that turn the baseline into the current description. Objects that
    left the description are deletes (the ombud decides with the provider what ending
    them means in HSA; the change request lists what to end)."""
    desired = desired_entries(current_model, base_dn)
    actual = baseline_entries(baseline.model, base_dn)
    plan = make_plan(desired, actual, base_dn, prune=True, max_deletes=len(actual) + 1)
    # An empty current description against a full baseline would list every object as
    # removed; make_plan refuses that as a prune, which is right here too.
    return plan
