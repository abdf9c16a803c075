"""`make simulate`: replay a synthetic clinic month into the running local stack.

Every event goes through the public webhook, signed, as an MIS would send it.
Webhook ids are derived from the seed, so running it twice changes nothing.
Events of the last week start their sequences, so the desk fills up too. Then a patient-base import and a
win-back campaign bring two patients back, so the digest shows the money returned.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from embedded import campaign_demo, figures
from embedded.demo import local_json_path
from embedded.resources import PROJECT
from embedded.send import send
from embedded.synthetic import ClinicMonth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--leads-per-day", type=float, default=3.0)
    parser.add_argument("--visits-per-day", type=float, default=5.0)
    parser.add_argument("--missed-per-day", type=float, default=2.0)
    args = parser.parse_args(argv)
    path = local_json_path(PROJECT)
    if not path.exists():
        print("Start the stack first: make run", file=sys.stderr)
        return 2
    local = json.loads(path.read_text())
    events = ClinicMonth(seed=args.seed, days=args.days, leads_per_day=args.leads_per_day,
                         visits_per_day=args.visits_per_day, missed_per_day=args.missed_per_day).generate()
    print(f"Replaying {len(events)} events of a {args.days}-day month into {local['api_url']} …", flush=True)
    started, failures = time.monotonic(), 0

    def deliver(indexed: tuple[int, dict[str, object]]) -> int:
        index, event = indexed
        status, _ = send(event, local, webhook_id=f"sim-{args.seed}-{index}")
        return status

    with ThreadPoolExecutor(max_workers=4) as pool:
        for done, status in enumerate(pool.map(deliver, enumerate(events)), start=1):
            failures += status >= 300
            if done % 100 == 0 or done == len(events):
                print(f"  {done}/{len(events)} sent", flush=True)
    print("Importing a lost-patient base and running a win-back campaign …", flush=True)
    demo = campaign_demo.run(local, args.seed)
    if "error" in demo:
        print(f"  {demo['error']}", file=sys.stderr)
        return 1
    print(f"  imported {demo['imported']} patients ({demo['rejected']} rows rejected); campaign {demo['campaign_id']}",
          flush=True)
    print("Waiting until every event is applied and the figures have settled …", flush=True)
    report = figures.settle(local, events, demo)
    print(figures.text(report))
    print(f"Done in {time.monotonic() - started:.0f} s ({failures} refused). Open {local['api_url']}/desk and "
          f"{local['api_url']}/console, or run `make digest`.")
    return 0 if failures == 0 and report["settled"] else 1


if __name__ == "__main__":
    sys.exit(main())
