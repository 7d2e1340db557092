"""Which files make up a provider description (the loader and the plan cache agree).

A folder: every ``*.yml`` / ``*.yaml`` file below it, hidden files and folders (a
leading dot) left out, in the order of their path relative to the folder. A file: that
file. Anything else: none.
"""

from __future__ import annotations

import hashlib
import os


def description_files(path: str) -> list[tuple[str, str]]:
    """``(full path, path shown in findings)`` of each file of the description."""
    if os.path.isdir(path):
        found = []
        for current, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel = os.path.relpath(current, path)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for name in files:
                if name.startswith(".") or not name.endswith((".yml", ".yaml")):
                    continue
                found.append((os.path.join(current, name), prefix + name))
        return sorted(found, key=lambda pair: pair[1])
    if os.path.isfile(path):
        return [(path, os.path.basename(path))]
    return []


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
