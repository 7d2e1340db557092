"""What the last plan learned, kept on the control node so the next no-change plan is cheap.

A plan that changes nothing is the common run (drift checks, a re-run after an apply),
and most of its time used to go on work whose result had not changed: parsing and
validating the same YAML, and decoding and comparing the same directory entries. Two
facts are kept, and each is only used when it provably still holds:

* **The description** (``desc-<scope>.bin``): the desired entries, the validation findings
  and the provider's name, under a key that is a digest of every description file's path
  and bytes, the options (base DN, strict ids), the source of the toolkit code that reads
  and maps it, the PyYAML installation and the Python version. Any change to any of these
  gives another key, and the description is read and validated again. The digest of the
  files' bytes is kept with their stats (``files-<scope>.bin``) and used again while no
  file's size, inode or times moved (``PlanCache._files_digest``).
* **Entries in sync** (``sync-<scope>.bin``): each directory entry that needed no change,
  exactly as the server sent it (its SearchResultEntry bytes: DN, attributes, values, in
  the server's order), with the fingerprint of the desired entry it matched. When the
  server sends the same bytes again and the description still wants the same entry, the
  comparison would give the same answer, so it is skipped. Any other bytes (a changed
  value, another order, another attribute) are decoded and compared as usual. Entries
  are matched by their whole bytes, not by a digest: there is nothing to collide.
* **The last read in sync** (``seen-<scope>.bin``): the whole answer of the last search
  whose every entry was known to match (every page as the server sent it), under a key
  that includes the fingerprints of the desired entries it matched. While the server
  sends the same bytes again, ``hsa_wire`` only compares them, chunk by chunk, instead
  of cutting them into entries; a read that is the same to the last byte, for the same
  description, is a plan without changes.

Keys and fingerprints are BLAKE2b digests (256 and 128 bits).

The cache is data about the provider's staff (names, HSA-ids): files are written with
mode 0600 in a folder of mode 0700, and a file or folder that another user owns or can
write is not read (the run warns and works without it). ``cache: false`` on the module, or
deleting the folder, is always safe: the next run is a cold one, nothing else changes.
A cache file that cannot be read (truncated, another format) is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import stat
import sys
import time
import zlib

from ..description.files import (
    content_digest,
    description_files,
    digest_of,
)

FORMAT = 2
RACY_NS = 2_000_000_000  # a file changed this close to its digest is hashed again
# The toolkit code whose behaviour a cached answer depends on (what hsa_validate,
# hsa_ldap_map, hsa_plan, hsa_wire and hsa_reconciler import; a test checks the list).
CODE_MODULES = (
    "description.crosscheck",
    "description.files",
    "description.model",
    "description.rules",
    "description.text",
    "description.validate",
    "description.webcert_roles",
    "description.yaml_reader",
    "directory.change_request",
    "directory.gateway",
    "directory.ldap",
    "directory.mapping",
    "directory.plan",
    "directory.plan_cache",
    "directory.plan_ldif",
    "directory.plan_text",
    "directory.reconciler",
    "directory.schema",
    "directory.wire",
    "i18n.bundle",
    "i18n.core",
)


_MODULE_UTILS = __name__.rsplit(".", 2)[0]  # ...plugins.module_utils


def _stat(full: str, shown: str) -> tuple:
    st = os.stat(full)
    return (shown, st.st_size, st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns)


def default_cache_dir(environ=None) -> str:
    """``$HSA_CACHE_DIR``, else ``$XDG_CACHE_HOME/webcert-siths-toolkit``, else
    ``~/.cache/webcert-siths-toolkit``."""
    env = os.environ if environ is None else environ
    if env.get("HSA_CACHE_DIR"):
        return env["HSA_CACHE_DIR"]
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "webcert-siths-toolkit")


def _digest(*parts, size: int = 32) -> bytes:
    return digest_of(parts, size)


def fingerprint(entry) -> bytes:
    """The digest of a DesiredEntry: everything a comparison with it depends on."""
    return _digest(
        repr((entry.kind, entry.hsa_id, entry.dn, tuple(entry.object_classes),
              tuple(sorted(entry.attributes.items())))),
        size=16,
    )


_code_digest: bytes | None = None


def code_digest() -> bytes:
    """A digest of the source of CODE_MODULES (as loaded: files, or the AnsiballZ zip),
    the PyYAML installation and the Python version."""
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


class Fingerprints:
    """The fingerprints of a cached description, one per desired entry, kept as the one
    string they are stored as (16 bytes each) and cut apart only when iterated: a plan
    the last read answers only needs them all together."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes):
        if len(blob) % 16:
            raise ValueError("fingerprints are 16 bytes each")
        self.blob = blob

    def __len__(self) -> int:
        return len(self.blob) // 16

    def __iter__(self):
        blob = self.blob
        return (blob[i : i + 16] for i in range(0, len(blob), 16))

    def __getitem__(self, index: int) -> bytes:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        return self.blob[16 * index : 16 * index + 16]


def _joined(fingerprints) -> bytes:
    return getattr(fingerprints, "blob", None) or b"".join(fingerprints)


class CachedDescription:
    """A validated description as the plan needs it: the findings, the provider's name
    and HSA-id, the fingerprint of each desired entry, and the desired entries themselves
    (``entries``; from the cache they are unpacked only when first asked for: a plan that
    the facts already answer never needs them)."""

    __slots__ = ("_body", "_entries", "findings", "fingerprints", "provider_hsa_id",
                 "provider_name")

    def __init__(self, findings, provider_name, provider_hsa_id, entries, fingerprints,
                 body: bytes | None = None):
        self.findings = findings  # list[str], as the module reports them
        self.provider_name = provider_name
        self.provider_hsa_id = provider_hsa_id
        self.fingerprints = fingerprints  # bytes per entry, in entry order (or Fingerprints)
        self._entries = entries  # list[DesiredEntry] or None (then _body holds them)
        self._body = body

    @property
    def entries(self) -> list:
        if self._entries is None:
            self._entries = _unpack_entries(self._body, len(self.fingerprints))
            self._body = None
        return self._entries


BASE_ENTRY = b"base entry"  # the fact for the entry of the base DN itself (never planned)


def all_in_sync(entries, facts: dict, fingerprints) -> bool:
    """True when ``facts`` say that the ``entries`` read (SearchResultEntry bytes) are
    exactly the base DN entry plus one entry in sync with each desired entry
    (``fingerprints``): the plan is then empty, whatever else it would look at. False
    whenever anything is new."""
    wanted = set(fingerprints)
    if not facts or not wanted or len(wanted) != len(fingerprints):
        return False
    seen: set[bytes] = set()
    add = seen.add
    get = facts.get
    bases = 0
    for entry in entries:
        fp = get(entry)
        if fp == BASE_ENTRY:
            bases += 1
        elif fp is None or fp not in wanted or fp in seen:
            return False
        else:
            add(fp)
    return bases <= 1 and len(seen) == len(wanted)


class PlanCache:
    """The cache folder of one run. Every failure to use it only costs speed: reads that
    fail return None, writes that fail are reported in ``warnings`` and skipped."""

    def __init__(self, directory: str):
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self.warnings: list[str] = []
        self._usable: bool | None = None

    # -- the folder and its files ------------------------------------------------------

    def _check(self, st, what: str) -> bool:
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            self.warnings.append(
                f"the plan cache {what} is owned or writable by another user; it is not "
                "used (run without it, or fix the owner and mode: chmod go-w)")
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
                        f"the plan cache folder {self.directory} is a symbolic link or not "
                        "a folder; it is not used")
                    return False
                if not self._check(st, f"folder {self.directory}"):
                    return False
                if st.st_mode & 0o077:
                    os.chmod(self.directory, 0o700)
                code_digest()
            except (OSError, RuntimeError, ImportError, ValueError) as exc:
                self.warnings.append(f"the plan cache folder {self.directory} cannot be "
                                     f"used ({exc}); the plan is made without it")
                return False
            self._usable = True
        return self._usable

    def _path(self, kind: str, scope: bytes) -> str:
        return os.path.join(self.directory, f"{kind}-{scope.hex()[:32]}.bin")

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

    def _write(self, path: str, key: bytes, payload) -> None:
        from ..reports.files import (
            write_atomic,
        )

        try:
            write_atomic(path, marshal.dumps((FORMAT, key, payload)), mode=0o600)
        except (OSError, ValueError) as exc:
            self.warnings.append(f"the plan cache file {path} could not be written ({exc})")

    # -- the description ---------------------------------------------------------------

    def _description_key(self, provider_path: str, base_dn: str, strict_ids: bool,
                         trust_stats: bool = False):
        """The key of the description: a digest of the code, the options and every file's
        name and bytes. With ``trust_stats``, the digest of the bytes is taken from the
        last run when no file changed since (``_files_digest``)."""
        files = description_files(provider_path)
        if not files:
            return None
        content = self._files_digest(provider_path, files, trust_stats)
        return _digest(code_digest(), base_dn, strict_ids, content)

    def _files_digest(self, provider_path: str, files, trust_stats: bool) -> bytes:
        """A digest of the files' names and bytes.

        Reading and hashing every file costs more than the rest of a plan the cache
        answers, so, as git does for its index, the digest of the last run is used again
        when every file has the same name, size, inode, modification and change time as
        then. The change time (ctime) moves with every write and cannot be set back by a
        user; a file changed less than RACY_NS before the digest was made is hashed
        again (a second write within the file system's time granularity would not move
        its times)."""
        snap = time.time_ns()
        stats = tuple(_stat(full, shown) for full, shown in files)
        scope = _digest(os.path.abspath(provider_path))
        path = self._path("files", scope)
        if trust_stats:
            record = self._read(path, scope)
            if (isinstance(record, tuple) and len(record) == 3 and record[1] == stats
                    and all(max(st[4], st[5]) < record[2] - RACY_NS for st in stats)):
                return record[0]

        def contents():
            for full, shown in files:
                with open(full, "rb") as handle:
                    yield shown, handle.read()

        digest = content_digest(contents())
        if trust_stats and self.usable():
            self._write(path, scope, (digest, stats, snap))
        return digest

    def _description_scope(self, provider_path: str, base_dn: str) -> bytes:
        return _digest(os.path.abspath(provider_path), base_dn.lower())

    def load_description(self, provider_path: str, base_dn: str,
                         strict_ids: bool) -> CachedDescription | None:
        """The cached description, when the files, options and code are unchanged."""
        if not self.usable():
            return None
        try:
            key = self._description_key(provider_path, base_dn, strict_ids, trust_stats=True)
        except OSError:
            return None  # the loader reports unreadable files
        if key is None:
            return None
        payload = self._read(self._path("desc", self._description_scope(
            provider_path, base_dn)), key)
        if payload is None:
            return None
        try:
            return _unpack_description(payload)
        except (TypeError, ValueError, IndexError):
            return None

    def store_description(self, provider_path: str, base_dn: str, strict: bool,
                          cached: CachedDescription, source_digest: bytes | None) -> None:
        """Keep ``cached`` under the key of the bytes it was made from (``source_digest``,
        ``LoadResult.source_digest``): whatever happened to the files meanwhile, it is only
        used again for exactly these bytes."""
        if source_digest is None or not self.usable():
            return
        key = _digest(code_digest(), base_dn, strict, source_digest)
        self._write(self._path("desc", self._description_scope(provider_path, base_dn)),
                    key, _pack_description(cached))

    # -- entries in sync ---------------------------------------------------------------

    def _sync_scope(self, uri: str, base_dn: str, attributes) -> tuple[bytes, bytes]:
        scope = _digest(uri, base_dn.lower(), ",".join(attributes))
        return scope, _digest(code_digest(), scope)

    def load_sync(self, uri: str, base_dn: str, attributes) -> dict[bytes, bytes]:
        """{entry bytes: fingerprint of the desired entry it was in sync with}."""
        if not self.usable():
            return {}
        scope, key = self._sync_scope(uri, base_dn, attributes)
        payload = self._read(self._path("sync", scope), key)
        return payload if isinstance(payload, dict) else {}

    def _seen_key(self, uri: str, base_dn: str, attributes, fingerprints) -> tuple:
        scope, key = self._sync_scope(uri, base_dn, attributes)
        return scope, _digest(key, _joined(fingerprints))

    def load_seen(self, uri: str, base_dn: str, attributes, fingerprints) -> tuple | None:
        """``(pages, result)`` of the last read that was all in sync with the same desired
        entries (``fingerprints``): the pages as ``hsa_wire`` kept them, and the plan
        fields of the module's result for it. None when there is none."""
        if not fingerprints or not self.usable():
            return None
        scope, key = self._seen_key(uri, base_dn, attributes, fingerprints)
        seen = self._read(self._path("seen", scope), key)
        if not (isinstance(seen, tuple) and len(seen) == 2 and isinstance(seen[0], list)
                and isinstance(seen[1], dict)):
            return None
        pages, result = seen
        if not pages or not all(isinstance(p, tuple) and len(p) == 3
                                and isinstance(p[0], bytes) and isinstance(p[1], bytes)
                                and isinstance(p[2], int) for p in pages):
            return None
        return pages, result

    def store_seen(self, uri: str, base_dn: str, attributes, fingerprints, pages,
                   result: dict) -> None:
        """Keep ``pages`` (a read whose every entry is in sync with ``fingerprints``) and
        ``result``, the plan fields of the module's result for it."""
        if not pages or not self.usable():
            return
        scope, key = self._seen_key(uri, base_dn, attributes, fingerprints)
        self._write(self._path("seen", scope), key, (list(pages), dict(result)))

    def store_sync(self, uri: str, base_dn: str, attributes, facts: dict[bytes, bytes],
                   before: dict[bytes, bytes] | None = None) -> None:
        """Replace the facts of this directory and base DN (no write when unchanged)."""
        if facts == before or not self.usable():
            return
        scope, key = self._sync_scope(uri, base_dn, attributes)
        self._write(self._path("sync", scope), key, facts)


def _pack_description(c: CachedDescription):
    from .mapping import (
        dn_keys,
    )

    body = marshal.dumps([
        (e.kind, e.hsa_id, e.dn, tuple(e.object_classes), tuple(e.attributes.items()),
         (e.origin.file, e.origin.line) if e.origin is not None else None,
         tuple(e.keys if e.keys is not None else dn_keys(e.dn)))
        for e in c.entries
    ])
    return (list(c.findings), c.provider_name, c.provider_hsa_id, _joined(c.fingerprints),
            body, zlib.crc32(body))


def _unpack_description(payload) -> CachedDescription:
    findings, name, hsa_id, fps, body, crc = payload
    if (not isinstance(fps, bytes) or len(fps) % 16 or not isinstance(body, bytes)
            or zlib.crc32(body) != crc):
        raise ValueError("malformed cached description")
    return CachedDescription(list(findings), name, hsa_id, None, Fingerprints(fps), body)


def _unpack_entries(body: bytes, count: int) -> list:
    from ..description.model import (
        Origin,
    )
    from .mapping import (
        DesiredEntry,
    )

    packed = marshal.loads(body)  # noqa: S302 - from a checked cache file (PlanCache._read)
    if len(packed) != count:
        raise ValueError("cached entries and fingerprints differ in number")
    # DesiredEntry is a frozen dataclass: its __init__ sets each field through
    # object.__setattr__, which costs more than everything else a cached plan does per
    # entry. The instance dictionary is filled directly instead (the same fields, so the
    # same object; tests compare them with entries built by desired_entries).
    new, origins = object.__new__, {}
    entries = []
    append = entries.append
    for kind, ident, dn, classes, attrs, origin, keys in packed:
        entry = new(DesiredEntry)
        if origin is not None:
            origin = origins.get(origin) or origins.setdefault(origin, Origin(*origin))
        entry.__dict__.update(kind=kind, hsa_id=ident, dn=dn, object_classes=classes,
                              attributes=dict(attrs), origin=origin, keys=keys)
        append(entry)
    return entries
