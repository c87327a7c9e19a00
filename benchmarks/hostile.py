"""What a hostile server costs the CLI (issue 14, part 3): peak memory, time and requests for bodies
that never end, a gzip bomb, a page of a million results, a trickling answer and endless pagination.

    .venv/bin/python benchmarks/hostile.py            # ~1-2 minutes; not part of run_all.py
    .venv/bin/python benchmarks/hostile.py --only trickle

The hostile server runs on 127.0.0.1 in this process and streams its bodies from generators, so
a 200 MB answer costs it nothing; each CLI run is a fresh process whose peak RSS comes from its
own rusage (os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PYTHON, clean_env, machine_line  # noqa: E402

TOKEN = "hostile-benchmark-token"
MiB = 1024 * 1024
MEMBER = {
    "organization": {"id": "3a9c1e44-72b0-4d1f-a8e6-0c5d9b2f41a7", "name": "Acme Logistics", "slug": "acme-logistics",
                     "owner": "5c1f0f0e-9d55-4d7e-9a37-0e7b9f1d2c11", "createdAt": "2023-04-01T09:30:00Z"},
    "status": "active", "createdAt": "2023-04-01T09:30:00Z", "updatedAt": "2024-02-11T16:05:00Z",
}


class Answer:
    """One response: a status line, headers and a body given as chunks; `trickle` seconds between bytes."""

    def __init__(self, body: Iterator[bytes] | bytes, length: int | None = None, headers: dict | None = None,
                 trickle: float = 0.0) -> None:
        self.body = iter([body]) if isinstance(body, bytes) else body
        self.length = len(body) if isinstance(body, bytes) else length
        self.headers = headers or {}
        self.trickle = trickle

    def head(self) -> bytes:
        lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {self.length}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def padded(size: int) -> Iterator[bytes]:
    yield b'{"results": [], "pad": "'
    for _ in range(size // MiB):
        yield b"x" * MiB
    yield b'"}'


def gzip_bomb(inflated: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [z.compress(b'{"results": [], "pad": "')]
    chunk = b"0" * MiB
    parts += [z.compress(chunk) for _ in range(inflated // MiB)]
    parts += [z.compress(b'"}'), z.flush()]
    return b"".join(parts)


def million_items() -> tuple[Iterator[bytes], int]:
    item = json.dumps(MEMBER).encode()
    count, per_chunk = 1_000_000, 1000
    chunk = b",".join([item] * per_chunk)
    length = len(b'{"results": [') + count * len(item) + (count - 1) + len(b"]}")

    def chunks() -> Iterator[bytes]:
        yield b'{"results": ['
        for n in range(count // per_chunk):
            yield (b"," if n else b"") + chunk
        yield b"]}"

    return chunks(), length


class HostileServer:
    """HTTP/1.1 with keep-alive on 127.0.0.1; `answer(path, query)` makes each response."""

    def __init__(self, answer: Callable[[str, dict], Answer]) -> None:
        self.answer = answer
        self.requests = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            # Without NODELAY, a response in two writes waits ~40 ms for the client's delayed ACK:
            # that would be the figure of every request of the endless listings.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
                self.requests += 1
                parts = urlsplit(target)
                answer = self.answer(parts.path, parse_qs(parts.query))
                data = answer.head()
                if answer.trickle:
                    for chunk in (data, *answer.body):
                        for i in range(len(chunk)):
                            conn.sendall(chunk[i:i + 1])
                            time.sleep(answer.trickle)
                else:
                    conn.sendall(data + next(answer.body, b""))
                    for chunk in answer.body:
                        conn.sendall(chunk)
        except OSError:
            pass  # the CLI hung up: what it is meant to do
        finally:
            conn.close()

    def close(self) -> None:
        self._sock.close()


def run_cli(server: HostileServer, args: list[str], env_extra: dict[str, str], home: Path, timeout: float = 600):
    env = clean_env(home, MEMBERSHIPS_API_URL=server.url, MEMBERSHIPS_TOKEN=TOKEN, **env_extra)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([PYTHON, "-m", "memberships_cli", *args], env=env, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - started
        err.seek(0)
        lines = [line for line in err.read().decode("utf-8", "replace").splitlines() if line.startswith("error:")]
    return os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss / 1024, (lines[-1] if lines else "")


def cases() -> dict[str, tuple[Callable[[str, dict], Answer], list[str], dict[str, str]]]:
    page = json.dumps({"results": [MEMBER] * 100}).encode()
    bomb = gzip_bomb(512 * MiB)
    def endless(items: int, token_size: int = 24, pages: int | None = None) -> Callable[[str, dict], Answer]:
        """Fresh tokens forever, or for `pages` pages; each item a distinct invitation."""
        counter = [0]

        def answer(path: str, query: dict) -> Answer:
            counter[0] += 1
            results = []
            for n in range(items):
                org = {**MEMBER["organization"], "id": f"{counter[0]:08x}-{n:04x}-4000-8000-000000000000"}
                results.append({**MEMBER, "organization": org, "status": "invited"})
            body = {"results": results}
            if pages is None or counter[0] < pages:
                body["nextPageToken"] = f"{counter[0]:0{token_size}d}"
            return Answer(json.dumps(body).encode())
        return answer

    def listing(pages: int, invited: Callable[[int, int], bool]) -> Callable[[str, dict], Answer]:
        """`pages` full pages of distinct organizations (slug org-P-N for item N of page P, from
        1), `invited(P, N)` saying which are invitations; a GET of one membership answers too."""
        def member(page_no: int, n: int) -> dict:
            org = {**MEMBER["organization"], "id": f"{page_no:08x}-{n:04x}-4000-8000-000000000000",
                   "slug": f"org-{page_no}-{n}", "name": f"Organization {page_no}.{n}"}
            return {**MEMBER, "organization": org, "status": "invited" if invited(page_no, n) else "active"}

        def answer(path: str, query: dict) -> Answer:
            if path != "/me/memberships":
                page_no, n = (int(part, 16) for part in path.rsplit("/", 1)[1].split("-")[:2])
                return Answer(json.dumps(member(page_no, n)).encode())
            page_no = int(query.get("pageToken", ["0"])[0]) + 1
            body = {"results": [member(page_no, n) for n in range(1, 101)]}
            if page_no < pages:
                body["nextPageToken"] = str(page_no)
            return Answer(json.dumps(body).encode())
        return answer

    no_retries = {"MEMBERSHIPS_RETRIES": "0"}
    return {
        "normal page of 100 (reference)": (lambda p, q: Answer(page), ["list", "--json"], {}),
        "200 MB body": (lambda p, q: Answer(padded(200 * MiB), 200 * MiB + 26), ["list", "--json"], {}),
        f"gzip bomb ({len(bomb) / MiB:.1f} MiB -> 512 MiB)": (
            lambda p, q: Answer(bomb, headers={"Content-Encoding": "gzip"}), ["list", "--json"], {}),
        "1,000,000-item page (limit=100)": (lambda p, q: Answer(*million_items()), ["list", "--json"], {}),
        "trickle, 1 byte / 0.5 s, --timeout 2, no retries": (
            lambda p, q: Answer(page, trickle=0.5), ["--timeout", "2", "list", "--json"], no_retries),
        "trickle, 1 byte / 0.5 s, --timeout 2, default retries": (
            lambda p, q: Answer(page, trickle=0.5), ["--timeout", "2", "list", "--json"], {}),
        "endless: empty pages, fresh tokens": (endless(0), ["list", "--json"], {}),
        "endless: 1 item per page, fresh tokens": (endless(1), ["list", "--format", "jsonl"], {}),
        "endless: 16 KB tokens": (endless(1, 16_384), ["list", "--json"], {}),
        "endless: accept --all, 1 invitation per page": (endless(1), ["accept", "--all", "--dry-run", "--json"], {}),
        # What 1,000 full pages (100,000 memberships) cost the commands that look for something in them.
        "accept --all, 1,000 pages of 100 invitations, --dry-run": (
            endless(100, pages=1000), ["accept", "--all", "--dry-run", "--concurrency", "1", "--json"], {}),
        "accept --all, 1,000 pages of 100, 1 invitation a page, --dry-run": (
            listing(1000, lambda p, n: n == 50), ["accept", "--all", "--dry-run", "--concurrency", "1", "--json"], {}),
        "accept --all --match one, 1,000 pages of 100 invitations, --dry-run": (
            listing(1000, lambda p, n: True), ["accept", "--all", "--match", "org-1000-100", "--dry-run", "--json"], {}),
        "show SLUG on the last of 1,000 pages": (listing(1000, lambda p, n: False), ["show", "org-1000-100", "--json"], {}),
        "show SLUG on the first of 1,000 pages": (listing(1000, lambda p, n: False), ["show", "org-1-1", "--json"], {}),
        "show a typo (did you mean), 1,000 pages": (listing(1000, lambda p, n: False), ["show", "org-1000-1000"], {}),
        "leave SLUG on the last of 1,000 pages, --dry-run": (
            listing(1000, lambda p, n: False), ["leave", "org-1000-100", "--dry-run", "--json"], {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    print(f"hostile servers: {machine_line()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (answer, argv, env) in cases().items():
            if args.only and args.only not in name:
                continue
            server = HostileServer(answer)
            try:
                code, elapsed, rss, error = run_cli(server, argv, env, Path(tmp))
            finally:
                server.close()
            rows.append((name, code, elapsed, rss, server.requests, error))
            print(f"- {name}: exit {code}, {elapsed:.1f} s, peak RSS {rss:.1f} MiB, {server.requests:,} requests"
                  + (f"\n    {error[:220]}" if error else ""), flush=True)


if __name__ == "__main__":
    main()
