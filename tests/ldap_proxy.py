"""A TCP proxy on 127.0.0.1 for plain LDAP that triggers a fault by operation count.

``FaultProxy(port, after=N, action=fn, then="cut" | "hold" | "pass")`` forwards
everything between the client and the server on ``port`` and counts the write requests
(add, modify, delete, modify DN) the client sends. When write number N + 1 arrives, it
waits until the server has answered the N writes before it and those answers have been
passed on, runs ``action()`` (stop the server, freeze it, signal the client...) and then:

* ``cut``: closes every connection it holds (the client loses the connection);
* ``hold``: forwards nothing more from the client on that connection (the request stays
  unanswered; the connection stays open);
* ``pass``: goes on forwarding (a frozen server simply does not answer);
* ``mute``: goes on forwarding requests, but no answer to a write reaches the client
  any more (the server applies them; the client never hears).

The fault fires once; later connections pass through. ``delay`` waits that long before
passing on each client message (a slow link; no fault). The proxy only reads the BER
framing and the operation tag of each message (RFC 4511 4.1.1), so it works for plain
LDAP only: the tests connect through it with ``start_tls=False, allow_plaintext=True``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

WRITE_REQUESTS = {0x66, 0x68, 0x4A, 0x6C}  # modify, add, delete, modify DN
WRITE_RESPONSES = {0x67, 0x69, 0x6B, 0x6D}


def _split(buf: bytearray) -> list[bytes]:
    """Take the complete LDAP messages off the front of ``buf``."""
    out = []
    while len(buf) >= 2:
        first = buf[1]
        if first < 0x80:
            head, size = 2, first
        else:
            n = first & 0x7F
            if len(buf) < 2 + n:
                break
            head, size = 2 + n, int.from_bytes(buf[2:2 + n], "big")
        if len(buf) < head + size:
            break
        out.append(bytes(buf[:head + size]))
        del buf[:head + size]
    return out


def _op_tag(message: bytes) -> int | None:
    """The protocolOp tag of one LDAPMessage (after its messageID)."""
    first = message[1]
    i = 2 if first < 0x80 else 2 + (first & 0x7F)
    if message[i] != 0x02:
        return None
    return message[i + 2 + message[i + 1]]


class FaultProxy:
    def __init__(self, port: int, *, after: int | None = None, action=None,
                 then: str = "cut", delay: float = 0.0):
        self.target, self.after, self.action, self.then, self.delay = (
            port, after, action, then, delay)
        self.writes = 0  # write requests passed on to the server
        self.answered = 0  # answers to them passed back to the client
        self.fired = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._ended: set[int] = set()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:  # the server is down: the client sees a closed connection
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._requests, args=(client, server), daemon=True).start()
            threading.Thread(target=self._answers, args=(server, client), daemon=True).start()

    def _requests(self, client, server) -> None:
        buf = bytearray()
        holding = False
        try:
            while data := client.recv(65536):
                buf += data
                for message in _split(buf):
                    if holding:
                        continue
                    if _op_tag(message) in WRITE_REQUESTS:
                        if self._should_fire():
                            self._fire()
                            if self.then == "hold":
                                holding = True
                                continue
                            if self.then == "cut":
                                return
                        with self._lock:
                            self.writes += 1
                    if self.delay:
                        time.sleep(self.delay)
                    server.sendall(message)
        except OSError:
            pass
        finally:
            if not holding:
                self._end(client, server)

    def _answers(self, server, client) -> None:
        buf = bytearray()
        try:
            while data := server.recv(65536):
                buf += data
                for message in _split(buf):
                    write = _op_tag(message) in WRITE_RESPONSES
                    if write and self.then == "mute" and self.fired.is_set():
                        continue
                    client.sendall(message)
                    if write:
                        with self._lock:
                            self.answered += 1
        except OSError:
            pass
        finally:
            self._end(client, server)

    def _should_fire(self) -> bool:
        with self._lock:
            return (self.after is not None and not self.fired.is_set()
                    and self.writes >= self.after)

    def _fire(self) -> None:
        self.fired.set()
        deadline = time.monotonic() + 30
        while self.answered < self.writes and time.monotonic() < deadline:
            time.sleep(0.005)  # the answers to the writes before the fault are passed on
        if self.action is not None:
            self.action()
        if self.then == "cut":
            with self._lock:
                pairs = list(self._pairs)
            for pair in pairs:
                self._end(*pair)

    def _end(self, client, server) -> None:
        """Close a connection the way a server does: what was passed on to the client is
        still delivered (FIN after the data, never a reset that would discard it)."""
        with self._lock:
            if id(client) in self._ended:
                return
            self._ended.add(id(client))
        self._close(server)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)

        def drain():  # read what the client still sends until it closes, then close
            with contextlib.suppress(OSError):
                client.settimeout(10)
                while client.recv(65536):
                    pass
            self._close(client)

        threading.Thread(target=drain, daemon=True).start()

    @staticmethod
    def _close(*socks) -> None:
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            self._close(*pair)
