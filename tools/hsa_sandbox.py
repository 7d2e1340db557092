"""The embedded HSA sandbox: a private OpenLDAP slapd on 127.0.0.1.

Used by ``tools/hsa-sandbox`` (the operator command), by the test fixtures and by
``make demo``. It never touches the system slapd configuration: everything (config,
database, TLS material, pid file, log) lives in one folder, ``.sandbox/`` by default.

The server speaks ``ldap://`` (StartTLS offered) and ``ldaps://``, both with a server
certificate issued by a CA generated here on first start. A client certificate
(a stand-in for a SITHS function certificate) is generated too; it binds with SASL
EXTERNAL as ``cn=hsa-reconciler,o=Sandbox,c=SE``, which may write the tree.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema" / "hsa.schema"
SYSTEM_SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
DEFAULT_DIR = ROOT / ".sandbox"
BASE_DN = "c=SE"
ROOT_DN = "cn=admin,c=SE"
CLIENT_DN = "cn=hsa-reconciler,o=Sandbox,c=SE"
STATE_FILE = "sandbox.json"


class SandboxError(Exception):
    """A problem the operator can act on; the message says what to do."""


@dataclass
class SandboxInfo:
    dir: str
    port: int
    ldaps_port: int
    pid: int
    bind_dn: str
    bind_password: str
    base_dn: str
    ca_file: str
    client_cert: str
    client_key: str

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "HSA_LDAP_URI": self.uri,
            "HSA_LDAP_BIND_DN": self.bind_dn,
            "HSA_LDAP_BIND_PASSWORD": self.bind_password,
            "HSA_LDAP_BASE_DN": self.base_dn,
            "HSA_LDAP_CA_FILE": self.ca_file,
        }


# --------------------------------------------------------------------------- helpers


def find_slapd() -> str:
    for cand in (shutil.which("slapd"), "/usr/sbin/slapd"):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise SandboxError(
        "slapd is not installed. Install it with:\n"
        "  sudo apt-get install -y slapd ldap-utils\n"
        "(or run `make test` / `make demo`, which install it when they can)."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def pid_is_our_slapd(pid: int, conf: Path) -> bool:
    """True when pid is a slapd started with this sandbox's config file."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid_alive(pid)
    args = [a.decode(errors="replace") for a in cmdline if a]
    return bool(args) and Path(args[0]).name == "slapd" and str(conf) in args


def ssha(password: str) -> str:
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - {SSHA} is slapd's format
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


# --------------------------------------------------------------------------- TLS


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def make_tls(tls_dir: Path) -> None:
    """Create a CA, a server certificate for 127.0.0.1/localhost and a client certificate
    (with the test PKI's builders, tools/siths_testpki.py)."""
    import ipaddress

    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from siths_testpki import ca_certificate, make_name, new_key, pem_of, tls_leaf

    tls_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = new_key()
    ca = ca_certificate(make_name("HSA Sandbox CA", "HSA Sandbox"), ca_key, not_before=now,
                        not_after=now + dt.timedelta(days=3650), path_length=0)
    validity = {"not_before": now, "not_after": now + dt.timedelta(days=825)}
    srv_key, srv = tls_leaf(
        ca, ca_key, "localhost", ExtendedKeyUsageOID.SERVER_AUTH,
        san=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        **validity,
    )
    cli_key, cli = tls_leaf(ca, ca_key, "hsa-reconciler", ExtendedKeyUsageOID.CLIENT_AUTH,
                            **validity)
    (tls_dir / "ca.pem").write_bytes(pem_of(ca))
    _write_private(tls_dir / "ca.key", pem_of(ca_key))
    (tls_dir / "server.pem").write_bytes(pem_of(srv))
    _write_private(tls_dir / "server.key", pem_of(srv_key))
    (tls_dir / "client.pem").write_bytes(pem_of(cli))
    _write_private(tls_dir / "client.key", pem_of(cli_key))


# --------------------------------------------------------------------------- config


def write_config(d: Path, password: str) -> Path:
    tls = d / "tls"
    db = d / "db"
    db.mkdir(parents=True, exist_ok=True)
    conf = d / "slapd.conf"
    schema_lines = "\n".join(
        f"include {SYSTEM_SCHEMA_DIR / name}"
        for name in ("core.schema", "cosine.schema", "inetorgperson.schema")
    )
    conf.write_text(
        f"""# Generated by tools/hsa-sandbox. Private to this folder; safe to delete.
{schema_lines}
include {SCHEMA}

modulepath {MODULE_DIR}
moduleload back_mdb

pidfile {d / "slapd.pid"}
argsfile {d / "slapd.args"}
loglevel stats
sizelimit 500
timelimit 60

TLSCACertificateFile {tls / "ca.pem"}
TLSCertificateFile {tls / "server.pem"}
TLSCertificateKeyFile {tls / "server.key"}
# "try": a client certificate is optional (password binds work without one), but one
# that does not verify against the CA ends the session. "allow" would let a certificate
# from ANY CA bind with SASL EXTERNAL as the name in its subject.
TLSVerifyClient try

authz-regexp "^cn=(hsa-reconciler),o=sandbox,c=se$" "{CLIENT_DN}"

database mdb
maxsize 2147483648
# Sandbox only: no fsync per write (a crash may lose the last writes; tests start afresh).
dbnosync
suffix "{BASE_DN}"
rootdn "{ROOT_DN}"
rootpw {ssha(password)}
directory {db}
index objectClass eq
index hsaIdentity eq
index hsaCommissionMember eq
limits dn.exact="{ROOT_DN}" size=unlimited time=unlimited
limits dn.exact="{CLIENT_DN}" size=unlimited time=unlimited

access to *
  by dn.exact="{CLIENT_DN}" manage
  by users read
  by anonymous auth

database monitor
""",
        encoding="utf-8",
    )
    conf.chmod(0o600)
    return conf


def _ldap_ready(info: SandboxInfo, timeout: float) -> bool:
    """Wait until slapd answers a StartTLS bind (with ldapwhoami when present)."""
    deadline = time.monotonic() + timeout
    env = dict(os.environ, LDAPTLS_CACERT=info.ca_file, LDAPTLS_REQCERT="demand")
    whoami = shutil.which("ldapwhoami")
    while time.monotonic() < deadline:
        if not pid_alive(info.pid):
            return False
        if whoami:
            r = subprocess.run(
                [whoami, "-x", "-ZZ", "-H", info.uri, "-D", info.bind_dn, "-y",
                 str(Path(info.dir) / "bind.pw")],
                env=env, capture_output=True, text=True, check=False,
            )
            if r.returncode == 0:
                return True
        else:
            try:
                with socket.create_connection(("127.0.0.1", info.port), timeout=0.5):
                    return True
            except OSError:
                pass
        time.sleep(0.1)
    return False


# --------------------------------------------------------------------------- commands


def _load_state(d: Path) -> SandboxInfo | None:
    p = d / STATE_FILE
    if not p.exists():
        return None
    try:
        return SandboxInfo(**json.loads(p.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise SandboxError(f"{p}: unreadable sandbox state ({exc}); delete the folder {d}") from exc


def status(d: Path) -> tuple[str, SandboxInfo | None]:
    """Return ("running" | "stopped" | "stale", info)."""
    info = _load_state(d)
    pidfile = d / "slapd.pid"
    if info is None:
        return "stopped", None
    pid = 0
    if pidfile.exists():
        try:
            pid = int(pidfile.read_text().strip() or 0)
        except ValueError:
            pid = 0
    if pid and pid_alive(pid) and pid_is_our_slapd(pid, d / "slapd.conf"):
        info.pid = pid
        return "running", info
    if pidfile.exists():
        return "stale", info
    return "stopped", info


def start(d: Path = DEFAULT_DIR, port: int | None = None, timeout: float = 20.0) -> SandboxInfo:
    d = d.resolve()
    d.mkdir(parents=True, exist_ok=True)
    state, info = status(d)
    if state == "running" and info is not None:
        if port and port != info.port:
            raise SandboxError(
                f"the sandbox in {d} already runs on port {info.port}, not {port}; "
                f"stop it first: tools/hsa-sandbox stop --dir {d}"
            )
        return info
    if state == "stale":
        print(f"hsa-sandbox: removing stale pid file {d / 'slapd.pid'} (no slapd runs with it)",
              file=sys.stderr)
        (d / "slapd.pid").unlink(missing_ok=True)

    slapd = find_slapd()
    if port is None:
        port = info.port if info and not port_in_use(info.port) else free_port()
    elif port_in_use(port):
        raise SandboxError(
            f"port {port} on 127.0.0.1 is already in use by another program; "
            "choose another with --port N or leave --port out to pick a free one"
        )
    ldaps_port = port + 1 if not port_in_use(port + 1) else free_port()

    tls = d / "tls"
    if not (tls / "ca.pem").exists():
        make_tls(tls)
    pwfile = d / "bind.pw"
    if pwfile.exists():
        password = pwfile.read_text(encoding="utf-8").strip()
    else:
        password = secrets.token_urlsafe(18)
        _write_private(pwfile, password.encode())
    conf = write_config(d, password)

    info = SandboxInfo(
        dir=str(d), port=port, ldaps_port=ldaps_port, pid=0, bind_dn=ROOT_DN,
        bind_password=password, base_dn=BASE_DN, ca_file=str(tls / "ca.pem"),
        client_cert=str(tls / "client.pem"), client_key=str(tls / "client.key"),
    )
    urls = f"{info.uri}/ {info.ldaps_uri}/"
    log = open(d / "slapd.log", "ab")  # noqa: SIM115 - handed to the daemon
    r = subprocess.run(
        [slapd, "-f", str(conf), "-h", urls], stdout=log, stderr=log, check=False
    )
    log.close()
    if r.returncode != 0:
        tail = (d / "slapd.log").read_text(errors="replace")[-1500:]
        raise SandboxError(f"slapd failed to start (exit {r.returncode}). Log tail:\n{tail}")
    deadline = time.monotonic() + timeout
    pidfile = d / "slapd.pid"
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not pidfile.exists():
        raise SandboxError(f"slapd did not write {pidfile} within {timeout:.0f}s")
    info.pid = int(pidfile.read_text().strip())
    (d / STATE_FILE).write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
    (d / STATE_FILE).chmod(0o600)
    if not _ldap_ready(info, timeout):
        raise SandboxError(f"slapd started (pid {info.pid}) but does not answer on {info.uri}")
    _ensure_base(info)
    return info


def _ensure_base(info: SandboxInfo) -> None:
    """Create the suffix entry c=SE once (the client identity needs no entry)."""
    add = shutil.which("ldapadd")
    ldif = f"dn: {BASE_DN}\nobjectClass: country\nc: SE\n"
    if add:
        env = dict(os.environ, LDAPTLS_CACERT=info.ca_file, LDAPTLS_REQCERT="demand")
        r = subprocess.run(
            [add, "-c", "-x", "-ZZ", "-H", info.uri, "-D", info.bind_dn, "-y",
             str(Path(info.dir) / "bind.pw")],
            input=ldif, env=env, capture_output=True, text=True, check=False,
        )
        # 68 = already exists: fine on restart.
        if r.returncode not in (0, 68):
            raise SandboxError(f"could not create the base entries: {r.stderr.strip()}")
        return
    raise SandboxError("ldapadd is missing: sudo apt-get install -y ldap-utils")


def stop(d: Path = DEFAULT_DIR, timeout: float = 15.0) -> str:
    d = d.resolve()
    state, info = status(d)
    if state == "stale":
        (d / "slapd.pid").unlink(missing_ok=True)
        return "stale pid file removed; nothing was running"
    if state != "running" or info is None:
        return "not running"
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
    (d / "slapd.pid").unlink(missing_ok=True)
    return f"stopped slapd (pid {info.pid})"


def destroy(d: Path) -> None:
    stop(d)
    shutil.rmtree(d, ignore_errors=True)


def export_lines(info: SandboxInfo) -> str:
    import shlex

    lines = [f"export {k}={shlex.quote(v)}" for k, v in info.env.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="hsa-sandbox",
        description="A private OpenLDAP slapd with the HSA schema on 127.0.0.1.",
    )
    p.add_argument("command", choices=["start", "stop", "status", "env"])
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                   help="folder for config, data and TLS material (default: .sandbox/)")
    p.add_argument("--port", type=int, default=None,
                   help="ldap:// port (ldaps:// uses the next free one); default: a free port")
    a = p.parse_args(argv)
    try:
        if a.command == "start":
            info = start(a.dir, a.port)
            print(f"# HSA sandbox running: {info.uri} (StartTLS) and {info.ldaps_uri}",
                  file=sys.stderr)
            print(f"# CA certificate: {info.ca_file}", file=sys.stderr)
            print(f"# client certificate for SASL EXTERNAL: {info.client_cert}", file=sys.stderr)
            print(export_lines(info))
        elif a.command == "stop":
            print(stop(a.dir))
        elif a.command == "env":
            state, info = status(a.dir.resolve())
            if state != "running" or info is None:
                print("hsa-sandbox: not running", file=sys.stderr)
                return 1
            print(export_lines(info))
        else:
            state, info = status(a.dir.resolve())
            if state == "running" and info is not None:
                print(f"running: pid {info.pid}, {info.uri}, {info.ldaps_uri}, base {info.base_dn}")
                return 0
            print("stale pid file (slapd is not running)" if state == "stale" else "stopped")
            return 3
    except SandboxError as exc:
        print(f"hsa-sandbox: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
