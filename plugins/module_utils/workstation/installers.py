"""Checks of operator-supplied installers and their signatures (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..i18n.core import _
from .versions import Problem, parse_version

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def validate_installer(installer: object, path: str = "installer", allow_http: bool = False) -> list[Problem]:
    """Check operator-supplied installer parameters before any host is touched.

    The installer comes from ``src`` (a file on the controller, copied to the host:
    the supported way, no double hop) or ``path`` (an https:// URL downloaded on the host,
    or a UNC/local path the WinRM session must be able to read). Neither means "no
    installer supplied" and is valid (the role then only detects and reports). With
    one, ``sha256``, ``product_id`` and ``version`` are required.
    """
    if installer is None:
        return []
    if not isinstance(installer, Mapping):
        return [
            Problem(
                path,
                _("must be a mapping with path, sha256, product_id and version (got %(type)s)",
                  type=type(installer).__name__),
            )
        ]
    problems: list[Problem] = []
    src = installer.get("src") or ""
    source = installer.get("path") or ""
    if not isinstance(src, str):
        return [Problem(f"{path}.src", _("must be a string (a file on the Ansible controller)"))]
    if not isinstance(source, str):
        return [Problem(f"{path}.path", _("must be a string (UNC path, local path or https:// URL)"))]
    if src.strip() and source.strip():
        return [
            Problem(
                path,
                _("give either src (a file on the controller, copied to the host) or path "
                  "(https:// URL, UNC or local path on the host), not both"),
            )
        ]
    if not src.strip() and not source.strip():
        return problems
    lowered = source.lower()
    if src.strip():
        if "://" in src or src.startswith("\\\\"):
            problems.append(
                Problem(
                    f"{path}.src",
                    _("%(src)s must be a file on the controller; put URLs and UNC paths in path",
                      src=repr(src)),
                )
            )
    elif lowered.startswith("http://") and not allow_http:
        problems.append(Problem(f"{path}.path", _("%(source)s uses plain http; use https:// or a UNC path",
                                                  source=repr(source))))
    elif not (lowered.startswith(("https://", "http://", "\\\\")) or re.match(r"^[a-z]:\\", lowered)):
        problems.append(
            Problem(
                f"{path}.path",
                _("%(source)s is not a UNC path (\\\\server\\share\\file), a local path "
                  "(C:\\...) or an https:// URL", source=repr(source)),
            )
        )
    sha = installer.get("sha256")
    if sha in (None, ""):
        problems.append(
            Problem(
                f"{path}.sha256",
                _("is required: the installer's SHA-256 (Get-FileHash -Algorithm SHA256)"),
            )
        )
    elif not isinstance(sha, str) or not _SHA256.match(sha):
        problems.append(
            Problem(f"{path}.sha256",
                    _("%(sha)s is not a SHA-256 digest (64 hexadecimal characters)", sha=repr(sha)))
        )
    product_id = installer.get("product_id")
    if not isinstance(product_id, str) or not product_id.strip():
        problems.append(
            Problem(
                f"{path}.product_id",
                _("is required: the uninstall key name of the product (a GUID like {...} for MSI)"),
            )
        )
    version = installer.get("version")
    if version in (None, ""):
        problems.append(
            Problem(
                f"{path}.version",
                _("is required: the version this installer installs (e.g. 2.0.8481)"),
            )
        )
    else:
        try:
            parse_version(version)
        except ValueError as exc:
            problems.append(Problem(f"{path}.version", str(exc)))
    arguments = installer.get("arguments")
    if (
        arguments is not None
        and not isinstance(arguments, str)
        and (not isinstance(arguments, Sequence) or not all(isinstance(a, str) for a in arguments))
    ):
        problems.append(Problem(f"{path}.arguments", _("must be a string or a list of strings")))
    codes = installer.get("expected_return_codes")
    if codes is not None and (
        isinstance(codes, str | bytes)
        or not isinstance(codes, Sequence)
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes)
    ):
        problems.append(
            Problem(f"{path}.expected_return_codes", _("must be a list of integers, e.g. [0, 3010]"))
        )
    uninstall = installer.get("uninstall_arguments")
    if uninstall is not None and not isinstance(uninstall, str):
        problems.append(
            Problem(f"{path}.uninstall_arguments", _("must be a string (the documented silent switch)"))
        )
    timeout = installer.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int) or not 5 <= timeout <= 14400
    ):
        problems.append(Problem(f"{path}.timeout", _("must be a number of seconds from 5 to 14400")))
    signer = installer.get("signer_subject")
    if signer is not None and not isinstance(signer, str):
        problems.append(
            Problem(
                f"{path}.signer_subject",
                _("must be a string (part of the Authenticode signer subject)"),
            )
        )
    return problems


def installer_problem_strings(
    installer: object, path: str = "installer", allow_http: bool = False
) -> list[str]:
    return [str(p) for p in validate_installer(installer, path, allow_http)]


def signature_problems(signature: Mapping | None, signer_subject: str | None) -> list[str]:
    """Judge a ``Get-AuthenticodeSignature`` result ``{status, subject}`` (sentences in the current
    language)."""
    if not signer_subject:
        return []
    if not signature:
        return [_("the installer's Authenticode signature could not be read")]
    status = str(signature.get("status", ""))
    subject = str(signature.get("subject") or "")
    problems = []
    if status.lower() != "valid":
        problems.append(
            _(
                "the installer's Authenticode signature status is %(status)s, expected Valid",
                status=status or "unknown",
            )
        )
    if signer_subject.lower() not in subject.lower():
        problems.append(
            _(
                "the installer is signed by '%(subject)s', expected a signer whose name contains"
                " '%(wanted)s'",
                subject=subject or "-",
                wanted=signer_subject,
            )
        )
    return problems


# Windows Installer exit codes the roles act on (Microsoft, "MsiExec.exe and InstMsi.exe error
# messages"); EXE installers built on MSI return the same codes.
EXIT_CODES = {
    0: ("ok", "installed"),
    3010: ("reboot", "installed; a restart is needed to finish (3010)"),
    1641: ("rebooted", "installed; the installer restarted the host itself (1641)"),
    1618: ("retry", "another installation is in progress on the host (1618); try again later"),
    1603: ("failed", "fatal error during installation (1603); see the installer log"),
}
# Exit codes win_package must accept so the role can react (1641 and 3010 are success).
ACCEPTED_EXIT_CODES = (0, 3010, 1641)


def installer_outcome(result: Mapping | None) -> dict:
    """What a ``win_package`` result means: ``{outcome, rc, message}`` with outcome
    ``unchanged|ok|reboot|rebooted|retry|failed|timeout``."""
    if not isinstance(result, Mapping) or result.get("skipped"):
        return {"outcome": "unchanged", "rc": None, "message": "nothing to do"}
    rc = result.get("rc")
    if result.get("timedout"):
        return {"outcome": "timeout", "rc": rc, "message": str(result.get("msg") or "timed out")}
    if rc is None:
        if result.get("failed"):
            msg = str(result.get("msg") or "failed")
            outcome = "timeout" if "timed out" in msg.lower() else "failed"
            return {"outcome": outcome, "rc": None, "message": msg}
        outcome = "reboot" if result.get("reboot_required") else "ok"
        return {"outcome": outcome, "rc": None, "message": "installed"}
    try:
        code = int(rc)
    except (TypeError, ValueError):
        return {"outcome": "failed", "rc": rc, "message": f"unreadable exit code {rc!r}"}
    outcome, message = EXIT_CODES.get(code, ("failed", f"unexpected exit code {code}"))
    if result.get("reboot_required") and outcome == "ok":
        outcome = "reboot"
    return {"outcome": outcome, "rc": code, "message": message}
