#!/usr/bin/env python3
"""`serve` against slow and silent clients, on loopback (issue 40's rows).

Usage: scripts/serve-slow-clients.py SERVE_BINARY ARTIFACTS

1. 100 clients send half a request head and fall silent, 10 send one header line a second;
   20 well-formed requests beside them: their slowest answer.
2. How many of the 110 the server has closed 6 s later (the header timeout is 5 s).
3. 100 more half heads open, then SIGTERM: how long until the process has exited.
4. The same server under `prlimit --nofile=128` with 160 silent connections: how long a
   well-formed request waits (at its connection cap, the server closes the longest-silent
   connection to make room).

Prints one line per measure and exits 1 when a well-formed request in (1) or (4) waited 1 s or
more, a slow client was left open in (2), or the stop in (3) took 10 s or more.
"""
import re
import signal
import socket
import subprocess
import sys
import threading
import time


def start(command):
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in server.stderr:
        found = re.search(r"on http://([\d.]+):(\d+)", line)
        if found:
            threading.Thread(target=lambda: server.stderr.read(), daemon=True).start()
            return server, (found.group(1), int(found.group(2)))
    sys.exit(f"serve did not start: {server.wait()}")


def half_head(addr):
    s = socket.create_connection(addr)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    return s


def drip(addr, closed):
    s = socket.create_connection(addr)
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    for i in range(8):
        time.sleep(1)
        try:
            s.sendall(f"X-Slow-{i}: 1\r\n".encode())
        except OSError:
            closed.append(1)
            return
    closed.append(int(is_closed(s)))


def is_closed(s):
    s.settimeout(0.2)
    try:
        while True:
            if not s.recv(4096):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def well_formed(addr):
    start = time.perf_counter()
    with socket.create_connection(addr, timeout=30) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 200"), reply[:80]
    return time.perf_counter() - start


def main():
    binary, artifacts = sys.argv[1], sys.argv[2]
    command = [binary, "--artifacts", artifacts, "--addr", "127.0.0.1:0"]
    failed = False
    server, addr = start(command)
    silent = [half_head(addr) for _ in range(100)]
    dripped = []
    drippers = [threading.Thread(target=drip, args=(addr, dripped)) for _ in range(10)]
    for t in drippers:
        t.start()
    slowest = max(well_formed(addr) for _ in range(20))
    print(f"well-formed beside 110 slow clients: slowest of 20 answered in {slowest * 1000:.0f} ms")
    failed |= slowest >= 1
    time.sleep(6)
    for t in drippers:
        t.join()
    closed = sum(is_closed(s) for s in silent) + sum(dripped)
    print(f"slow clients closed by the server 6 s later: {closed} of 110")
    failed |= closed < 110
    more = [half_head(addr) for _ in range(100)]
    start_stop = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=60)
    took = time.perf_counter() - start_stop
    print(f"SIGTERM with 100 half-open connections: exited {code} after {took:.2f} s")
    failed |= took >= 10 or code != 0
    for s in silent + more:
        s.close()

    server, addr = start(["prlimit", "--nofile=128", *command])
    silent = []
    for _ in range(160):
        try:
            silent.append(half_head(addr))
        except OSError:
            break
    waited = well_formed(addr)
    print(f"under prlimit --nofile=128 with {len(silent)} silent connections: a well-formed request waited {waited:.2f} s")
    failed |= waited >= 1
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    for s in silent:
        s.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
