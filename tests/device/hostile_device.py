"""A scripted MLPerf Tiny device on a real pseudo-terminal or a real TCP socket, for hostile-device tests.

It answers like reference firmware (name, profile, db load, infer, results) and every answer goes
through a method a test overrides to misbehave: garbage, endless lines, huge or NaN result vectors,
stalls, clocks that are coarse, stopped or jump back. tinyperf reaches it as any runner would, by
`--port /dev/pts/N` or `--port socket://127.0.0.1:P`.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Iterator


class FakeDevice:
    model = "kws01"
    outputs = 12
    latency_s = 0.0005  # real time one inference takes here

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.stop = threading.Event()
        self._buffer = bytearray()
        self._expected = 0
        self._epoch = time.monotonic()
        self._pending = b""

    # ---- what a test overrides -------------------------------------------------------------------
    def clock_us(self) -> int:
        return int((time.monotonic() - self._epoch) * 1e6) % 2**32

    def results(self) -> str:
        scores = [0.0] * self.outputs
        scores[sum(self._buffer) % self.outputs] = 0.9
        return "m-results-[" + ",".join(f"{v:0.3f}" for v in scores) + "]"

    def infer_lines(self, count: int, warmup: int) -> Iterator[str]:
        yield f"m-warmup-start-{warmup}"
        time.sleep(warmup * self.latency_s)
        yield "m-warmup-done"
        yield f"m-infer-start-{count}"
        yield f"m-lap-us-{self.clock_us()}"
        time.sleep(count * self.latency_s)
        yield f"m-lap-us-{self.clock_us()}"
        yield "m-infer-done"
        yield self.results()

    def answer(self, command: str) -> Iterator[str]:
        words = command.split()
        if not words:
            yield "e-[Unknown command: ]"
        elif words[0] == "name":
            yield "m-name-dut-[hostile]"
        elif words[0] == "profile":
            yield "m-profile-[hostile]"
            yield f"m-model-[{self.model}]"
        elif words[:2] == ["db", "load"]:
            self._expected, self._buffer = int(words[2]), bytearray()
            yield f"m-[Expecting {self._expected} bytes]"
        elif words[0] == "db":
            self._buffer += bytes.fromhex(words[1])
            if len(self._buffer) == self._expected:
                yield "m-load-done"
        elif words[0] == "infer":
            yield from self.infer_lines(int(words[1]), int(words[2]))
        elif words[0] == "results":
            yield self.results()
        else:
            yield f"e-[Unknown command: {words[0]}]"
        yield "m-ready"

    # ---- serving ---------------------------------------------------------------------------------
    def _serve(self, read: callable, write: callable) -> None:  # type: ignore[valid-type]
        while not self.stop.is_set():
            try:
                data = read()
            except OSError:
                return
            if data is None:
                continue
            if not data:
                return
            self._pending += data
            while b"%" in self._pending:
                raw, _, self._pending = self._pending.partition(b"%")
                command = raw.decode("ascii", "replace").strip()
                self.commands.append(command)
                try:
                    for line in self.answer(command):
                        if self.stop.is_set():
                            return
                        write((line + "\r\n").encode("ascii"))
                except OSError:
                    return

    def serve_pty(self) -> str:
        """Serve on a new pseudo-terminal; returns the path a runner opens."""
        master, slave = os.openpty()
        tty.setraw(slave)

        def read() -> bytes | None:
            ready, _, _ = select.select([master], [], [], 0.05)
            return os.read(master, 4096) if ready else None

        def write(data: bytes) -> None:
            view = memoryview(data)
            while view and not self.stop.is_set():
                _, ready, _ = select.select([], [master], [], 0.05)
                if ready:
                    view = view[os.write(master, view) :]

        def run() -> None:
            try:
                self._serve(read, write)
            finally:
                os.close(master)

        self._slave = slave  # kept open so the pty survives between the runner's opens
        threading.Thread(target=run, daemon=True).start()
        return os.ttyname(slave)

    def serve_socket(self) -> str:
        """Serve one connection on a loopback TCP port; returns the socket:// URL."""
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def run() -> None:
            server.settimeout(30)
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.settimeout(10)  # a write waits for a slow reader, up to this

            def read() -> bytes | None:
                ready, _, _ = select.select([conn], [], [], 0.05)
                return conn.recv(4096) if ready else None

            with conn:
                self._serve(read, conn.sendall)
            server.close()

        threading.Thread(target=run, daemon=True).start()
        return f"socket://127.0.0.1:{server.getsockname()[1]}"

    def close(self) -> None:
        self.stop.set()
        if hasattr(self, "_slave"):
            time.sleep(0.1)
            os.close(self._slave)
