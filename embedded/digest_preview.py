"""`make digest`: tonight's digest of the demo clinic, rendered to files you can open.

Writes `<data folder>/digest/<date>.html` (the email as a browser shows it) and `<date>.json`
(the contract JSON) from the running local stack; the data folder is `.clinicflow/` or CLINICFLOW_STATE.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from embedded.demo import local_json_path
from embedded.resources import PROJECT


def fetch(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - local
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own stack
        return bytes(response.read())


def main() -> int:
    path = local_json_path(PROJECT)
    if not path.exists():
        print("Start the stack first: make run", file=sys.stderr)
        return 2
    local = json.loads(path.read_text())
    demo = local["demo"]
    base = f"{local['api_url']}/v1/clinics/{demo['clinic_id']}/digest"
    try:
        digest = json.loads(fetch(base, demo["manager_token"]))
        html = fetch(f"{base}?format=html", demo["manager_token"])
    except urllib.error.URLError as exc:
        print(f"The local stack did not answer ({exc}). Is `make run` running?", file=sys.stderr)
        return 2
    out = path.parent / "digest"  # beside local.json: the state folder `make run` was given
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{digest['date']}.json").write_text(json.dumps(digest, ensure_ascii=False, indent=2))
    (out / f"{digest['date']}.html").write_bytes(html)
    print(f"Wrote {out / (digest['date'] + '.html')} and .json — open the HTML in a browser.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
