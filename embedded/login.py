"""Print fresh one-time login links for the running local stack's demo clinic.

    python -m embedded.login            # the desk (administrator) and the console (manager)
    python -m embedded.login desk       # only the desk

Each link carries a one-time code, valid 15 minutes; the staff tokens in `.clinicflow/local.json` stay there.
"""

from __future__ import annotations

import json
import sys
import urllib.request

from embedded.demo import local_json_path
from embedded.resources import PROJECT


def fresh_link(api_url: str, token: str) -> str:
    request = urllib.request.Request(f"{api_url}/v1/me/login-link", data=b"{}", method="POST",  # noqa: S310
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - an http URL of our own stack
        return str(json.loads(response.read())["url"])


def main(argv: list[str] | None = None) -> int:
    pages = (argv if argv is not None else sys.argv[1:]) or ["desk", "console"]
    local = json.loads(local_json_path(PROJECT).read_text())
    tokens = {"desk": local["demo"]["admin_token"], "console": local["demo"]["manager_token"]}
    for page in pages:
        if page not in tokens:
            print(f"unknown page {page}: desk or console", file=sys.stderr)
            return 2
        print(f"{page:8} {fresh_link(local['api_url'], tokens[page])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
