"""Which files make up a provider description (the loader and the plan cache agree).

A folder: every ``*.yml`` / ``*.yaml`` file below it, hidden files and folders (a
leading dot) left out, in the order of their path relative to the folder. A file: that
file. Anything else: none.

Descriptions arrive through merge requests, where a symbolic link is easy to miss. A
file or folder inside the description that resolves outside it is refused by name and
never opened (``Refused``), unless ``follow_symlinks`` is set and it resolves inside
one of ``symlink_roots``. Anything that is not a regular file (a FIFO, a device) is
refused too: opening one could block or read without end.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass

OUTSIDE = "outside"  # resolves outside the description (and outside every allowed root)
NOT_A_FILE = "not-a-file"  # a FIFO, socket or device
LOOP = "loop"  # a link to a folder inside the description: read where it is, not twice


@dataclass(frozen=True)
class Refused:
    shown: str  # the path inside the description, as findings show it
    reason: str  # OUTSIDE | NOT_A_FILE | LOOP
    folder: bool = False


class DescriptionRefused(OSError):
    """Raised by ``description_files`` when an entry is refused: the loader reports it."""


def _inside(path: str, roots) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def scan_description(path: str, follow_symlinks: bool = False, symlink_roots=()):
    """``(files, refused)``: ``(full path, path shown in findings)`` of each file to read,
    and the entries refused (``Refused``)."""
    if not os.path.isdir(path):
        if os.path.isfile(path):
            return [(path, os.path.basename(path))], []
        return [], []
    root = os.path.realpath(path)
    allowed = [root]
    if follow_symlinks:
        allowed += [os.path.realpath(r) for r in symlink_roots if r]
    found: list[tuple[str, str]] = []
    refused: list[Refused] = []
    seen_dirs = {root}
    pending = [(root, "")]
    while pending:
        current, prefix = pending.pop()
        try:
            names = sorted(os.listdir(current))
        except OSError:
            continue  # as os.walk: an unreadable folder is skipped
        for name in names:
            if name.startswith("."):
                continue
            full = os.path.join(current, name)
            shown = prefix + name
            real = os.path.realpath(full)
            try:
                st = os.stat(real)
            except OSError:
                if not name.endswith((".yml", ".yaml")):
                    continue
                if _inside(real, allowed):
                    found.append((full, shown))  # a broken link: the reader says so
                else:
                    refused.append(Refused(shown, OUTSIDE))
                continue
            if stat.S_ISDIR(st.st_mode):
                link = os.path.islink(full)
                if link and _inside(real, [root]):
                    refused.append(Refused(shown, LOOP, folder=True))  # read where it is
                elif not _inside(real, allowed):
                    refused.append(Refused(shown, OUTSIDE, folder=True))
                elif real not in seen_dirs:
                    seen_dirs.add(real)
                    pending.append((real, shown + "/"))
                continue
            if not name.endswith((".yml", ".yaml")):
                continue
            if not _inside(real, allowed):
                refused.append(Refused(shown, OUTSIDE))
            elif not stat.S_ISREG(st.st_mode):
                refused.append(Refused(shown, NOT_A_FILE))
            else:
                found.append((full, shown))
    found.sort(key=lambda pair: pair[1])
    refused.sort(key=lambda r: r.shown)
    return found, refused


def description_files(path: str, follow_symlinks: bool = False,
                      symlink_roots=()) -> list[tuple[str, str]]:
    """``(full path, path shown in findings)`` of each file of the description; raises
    ``DescriptionRefused`` when an entry is refused (the loader reports it by name)."""
    found, refused = scan_description(path, follow_symlinks, symlink_roots)
    if any(r.reason != LOOP for r in refused):
        raise DescriptionRefused(", ".join(r.shown for r in refused))
    return found


def digest_of(parts, size: int = 32) -> bytes:
    """BLAKE2b over ``parts`` (bytes as they are, anything else as UTF-8 text), each
    prefixed with its length, so that no two different lists of parts give one input."""
    h = hashlib.blake2b(digest_size=size)
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.digest()


def content_digest(parts) -> bytes:
    """The digest of a description's content: ``parts`` are ``(shown path, bytes)`` of
    each file, in the order of ``description_files``. The loader computes it from the
    bytes it parsed, the plan cache from the files on disk: equal digests, equal input."""
    return digest_of(item for pair in parts for item in pair)
