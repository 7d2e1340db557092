"""Which files make up a provider description (the loader and the plan cache agree).

A folder: every ``*.yml`` / ``*.yaml`` file below it, hidden files and folders (a
leading dot) left out, in the order of their path relative to the folder. A file: that
file. Anything else: none.
"""

from __future__ import annotations

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
