"""The reference point for listing: what a careful script would do with httpx and nothing else.

One keep-alive client, every page in turn. `jsonl` writes each page as it arrives; `json`
collects the items and writes them with one json.dump, like a quick script would.
Usage: minimal_httpx_list.py jsonl|json   (MEMBERSHIPS_API_URL, MEMBERSHIPS_TOKEN from the environment)
"""

import json
import os
import sys

import httpx


def main() -> None:
    mode = sys.argv[1]
    out = sys.stdout
    items = []
    params = {"limit": "100"}
    headers = {"Authorization": "Bearer " + os.environ["MEMBERSHIPS_TOKEN"], "Accept": "application/json"}
    with httpx.Client(base_url=os.environ["MEMBERSHIPS_API_URL"], headers=headers) as client:
        for _ in range(100_000):  # bounded: a server repeating page tokens cannot loop this forever
            response = client.get("/me/memberships", params=params)
            response.raise_for_status()
            body = response.json()
            if mode == "jsonl":
                out.write("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in body["results"]))
            else:
                items.extend(body["results"])
            if not body.get("nextPageToken"):
                break
            params["pageToken"] = body["nextPageToken"]
    if mode == "json":
        json.dump(items, out, ensure_ascii=False, indent=2)
        out.write("\n")


if __name__ == "__main__":
    main()
