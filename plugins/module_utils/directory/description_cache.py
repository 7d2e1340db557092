"""The description cache: the validated description, kept on the control node.

Reading and validating a large description (YAML parsing, every rule, the mapping to
directory entries) is most of the work of a plan that changes nothing, and its answer
only depends on the files. So the result (the desired entries, the validation findings
and the provider's name and HSA-id) is kept in ``desc-<scope>.bin`` under a key that is a
digest of:

* every description file's path and bytes (read and hashed on every run),
* the options (base DN, strict ids, which symbolic links may be followed, the language
  of the findings),
* the toolkit version: the source of the code that reads, validates and maps the
  description (``CODE_MODULES``), the PyYAML installation and the Python version.

Any change to any of these gives another key, and the description is read and validated
again. The directory itself is never cached: every plan reads, decodes and compares it.

The cache is data about the provider's staff (names, HSA-ids): files are written with
mode 0600 in a folder of mode 0700, and a file or folder that another user owns or can
write is not read (the run warns and works without it). ``cache: false`` on the module, or
deleting the folder, is always safe: the next run reads the description again, nothing
else changes. A cache file that cannot be read (truncated, another format) is ignored and
rewritten.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import stat
import sys
import zlib

from ..description.files import (
    content_digest,
    description_files,
    digest_of,
)
from ..i18n.core import (
    check_language,
)

FORMAT = 3
# The toolkit code a cached description depends on: what description.validate,
# description.presentation (the findings as the module reports them) and
# directory.mapping import (a test checks the list).
CODE_MODULES = (
    "description.crosscheck",
    "description.files",
    "description.model",
    "description.presentation",
    "description.rules",
    "description.text",
    "description.validate",
    "description.webcert_roles",
    "description.yaml_reader",
    "directory.client",
    "directory.description_cache",
    "directory.mapping",
    "directory.schema",
    "i18n.bundle",
    "i18n.core",
)

_MODULE_UTILS = __name__.rsplit(".", 2)[0]  # ...plugins.module_utils


def default_cache_dir(environ=None) -> str:
    """``$HSA_CACHE_DIR``, else ``$XDG_CACHE_HOME/webcert-siths-toolkit``, else
    ``~/.cache/webcert-siths-toolkit``."""
    env = os.environ if environ is None else environ
    if env.get("HSA_CACHE_DIR"):
        return env["HSA_CACHE_DIR"]
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "webcert-siths-toolkit")


_code_digest: bytes | None = None


def code_digest() -> bytes:
    """The toolkit version a cached answer was made with: a digest of the source of
    CODE_MODULES (as loaded: files, or the AnsiballZ zip), the PyYAML installation and
    the Python version."""
    global _code_digest
    if _code_digest is None:
        h = hashlib.blake2b(digest_size=32)
        h.update(f"{FORMAT} {sys.version}".encode())
        for name in CODE_MODULES:
            full = f"{_MODULE_UTILS}.{name}"
            spec = importlib.util.find_spec(full)
            source = spec.loader.get_source(full) if spec and spec.loader else None
            if source is None:
                raise RuntimeError(f"cannot read the source of {full}")
            h.update(name.encode() + b"\0" + source.encode("utf-8", "surrogatepass") + b"\0")
        yaml = importlib.util.find_spec("yaml")
        if yaml is not None and yaml.origin:
            st = os.stat(yaml.origin)
            h.update(f"yaml {yaml.origin} {st.st_size} {st.st_mtime_ns}".encode())
        _code_digest = h.digest()
    return _code_digest


class CachedDescription:
    """A validated description as the plan needs it: the findings, the provider's name
    and HSA-id, and the desired entries (``mapping.DesiredEntry``)."""

    __slots__ = ("entries", "findings", "provider_hsa_id", "provider_name")

    def __init__(self, findings, provider_name, provider_hsa_id, entries):
        self.findings = findings  # list[str], as the module reports them
        self.provider_name = provider_name
        self.provider_hsa_id = provider_hsa_id
        self.entries = entries


def _options(strict_ids, follow_symlinks, symlink_roots, language) -> tuple:
    """The options of the key; no language means the default one (the same findings)."""
    return (strict_ids, follow_symlinks, tuple(symlink_roots), check_language(language))


class DescriptionCache:
    """The cache folder of one run. Every failure to use it only costs speed: reads that
    fail return None, writes that fail are reported in ``warnings`` and skipped."""

    def __init__(self, directory: str):
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self.warnings: list[str] = []
        self._usable: bool | None = None

    def _check(self, st, what: str) -> bool:
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            self.warnings.append(
                f"the description cache {what} is owned or writable by another user; it is "
                "not used (run without it, or fix the owner and mode: chmod go-w)")
            return False
        return True

    def usable(self) -> bool:
        """True when the folder may be used: created 0700 when missing, a real folder (not
        a symbolic link) this user owns and nobody else can write (one that others can
        only read is tightened to 0700), and the toolkit's code can be read for the keys."""
        if self._usable is None:
            self._usable = False
            try:
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                st = os.lstat(self.directory)
                if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
                    self.warnings.append(
                        f"the description cache folder {self.directory} is a symbolic link "
                        "or not a folder; it is not used")
                    return False
                if not self._check(st, f"folder {self.directory}"):
                    return False
                if st.st_mode & 0o077:
                    os.chmod(self.directory, 0o700)
                code_digest()
            except (OSError, RuntimeError, ImportError, ValueError) as exc:
                self.warnings.append(f"the description cache folder {self.directory} cannot "
                                     f"be used ({exc}); the description is read without it")
                return False
            self._usable = True
        return self._usable

    def _path(self, provider_path: str, base_dn: str) -> str:
        scope = digest_of((os.path.abspath(provider_path), base_dn.lower()))
        return os.path.join(self.directory, f"desc-{scope.hex()[:32]}.bin")

    @staticmethod
    def _key(base_dn: str, options: tuple, content: bytes) -> bytes:
        return digest_of((code_digest(), base_dn, repr(options), content))

    def _read(self, path: str, key: bytes):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                if not self._check(os.fstat(handle.fileno()), f"file {path}"):
                    return None
                data = handle.read()
        except OSError:
            return None
        try:
            # Only files this user owns and nobody else can write get here (_check).
            fmt, stored_key, payload = marshal.loads(data)  # noqa: S302
        except (EOFError, ValueError, TypeError):
            return None
        if fmt != FORMAT or stored_key != key:
            return None
        return payload

    def load(self, provider_path: str, base_dn: str, strict_ids: bool,
             follow_symlinks: bool = False, symlink_roots=(),
             language: str | None = None) -> CachedDescription | None:
        """The cached description, when the files, options and toolkit are unchanged."""
        if not self.usable():
            return None
        try:
            files = description_files(provider_path, follow_symlinks, symlink_roots)
            if not files:
                return None

            def contents():
                for full, shown in files:
                    with open(full, "rb") as handle:
                        yield shown, handle.read()

            content = content_digest(contents())
        except OSError:
            return None  # the loader reports unreadable and refused files
        options = _options(strict_ids, follow_symlinks, symlink_roots, language)
        payload = self._read(self._path(provider_path, base_dn),
                             self._key(base_dn, options, content))
        if payload is None:
            return None
        try:
            return _unpack(payload)
        except (TypeError, ValueError, IndexError):
            return None

    def store(self, provider_path: str, base_dn: str, strict_ids: bool,
              cached: CachedDescription, source_digest: bytes | None,
              follow_symlinks: bool = False, symlink_roots=(),
              language: str | None = None) -> None:
        """Keep ``cached`` under the key of the bytes it was made from (``source_digest``,
        ``LoadResult.source_digest``): whatever happened to the files meanwhile, it is only
        used again for exactly these bytes."""
        if source_digest is None or not self.usable():
            return
        from ..reports.files import (
            write_atomic,
        )

        path = self._path(provider_path, base_dn)
        options = _options(strict_ids, follow_symlinks, symlink_roots, language)
        data = marshal.dumps((FORMAT, self._key(base_dn, options, source_digest),
                              _pack(cached)))
        try:
            write_atomic(path, data, mode=0o600)
        except (OSError, ValueError) as exc:
            self.warnings.append(f"the description cache file {path} could not be written "
                                 f"({exc})")


def _pack(c: CachedDescription):
    body = marshal.dumps([
        (e.kind, e.hsa_id, e.dn, tuple(e.object_classes), tuple(e.attributes.items()),
         (e.origin.file, e.origin.line) if e.origin is not None else None)
        for e in c.entries
    ])
    return (list(c.findings), c.provider_name, c.provider_hsa_id, body, zlib.crc32(body))


def _unpack(payload) -> CachedDescription:
    from ..description.model import (
        Origin,
    )
    from .mapping import (
        DesiredEntry,
    )

    findings, name, hsa_id, body, crc = payload
    if not isinstance(body, bytes) or zlib.crc32(body) != crc:
        raise ValueError("malformed cached description")
    origins: dict = {}
    entries = []
    for kind, ident, dn, classes, attrs, origin in marshal.loads(body):  # noqa: S302
        if origin is not None:
            origin = origins.get(origin) or origins.setdefault(origin, Origin(*origin))
        entries.append(DesiredEntry(kind, ident, dn, tuple(classes), dict(attrs), origin))
    return CachedDescription(list(findings), name, hsa_id, entries)
