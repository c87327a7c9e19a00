"""The sandbox API for the benchmarks, in a process of its own: `python sandbox_server.py DB [--tls DIR]`.

With --tls, it serves https:// only, with a certificate from a throwaway CA (trustme) whose
certificate it writes to DIR/ca.pem for the clients to trust (SSL_CERT_FILE).

Prints {"url": ...} and then answers one JSON line per command read from stdin:
  {"op": "prepare", "count": N, "status": "invited"} -> exactly N memberships, seed data removed
  {"op": "latency", "seconds": 0.02}                  -> delay before every /me answer
  {"op": "stats"}                                      -> connections, requests recorded, invitations left
It stops when stdin closes. Serving from another process keeps the server's work out of the
CLI's GIL and timings; the commands go over a pipe so preparing a run never shows up as traffic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from memberships_cli.sandbox import SandboxServer, Store


def main() -> None:
    store = Store(sys.argv[1])
    server = SandboxServer(store, owns_store=True)
    url = server.url
    if sys.argv[2:3] == ["--tls"]:
        import trustme

        from memberships_cli.sandbox.tls import serve_over_tls

        folder = Path(sys.argv[3])
        authority = trustme.CA()
        leaf = authority.issue_cert("127.0.0.1")
        authority.cert_pem.write_to_path(str(folder / "ca.pem"))
        leaf.private_key_and_cert_chain_pem.write_to_path(str(folder / "chain.pem"))
        leaf.private_key_pem.write_to_path(str(folder / "key.pem"))
        url = serve_over_tls(server, str(folder / "chain.pem"), str(folder / "key.pem"))
    server.start()
    print(json.dumps({"url": url}), flush=True)
    try:
        for line in sys.stdin:
            command = json.loads(line)
            op = command.get("op")
            if op == "prepare":
                store.reset()
                for org_id in [m["organization"]["id"] for m in store.all()]:
                    store.leave(org_id)
                ids = store.add_generated(int(command["count"]), command.get("status", "invited"))
                server.clear_requests()
                reply = {"ids": ids}
            elif op == "latency":
                server.latency = float(command["seconds"])
                reply = {"seconds": server.latency}
            elif op == "stats":
                reply = {
                    "connections": server.connection_count,
                    "requests": len(server.requests),
                    "invited": store.count("invited"),
                }
            else:
                reply = {"error": f"unknown op {op!r}"}
            print(json.dumps(reply), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
