"""`make run`: the whole product on this machine, no AWS account needed."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from chalicelib.local import stack
from chalicelib.local.resources import PROJECT

SWEEP_EVERY_S = float(os.environ.get("CLINICFLOW_SWEEP_SECONDS", "60"))
HOURLY_EVERY_S = float(os.environ.get("CLINICFLOW_HOURLY_SECONDS", "300"))
SAVE_EVERY_S = float(os.environ.get("CLINICFLOW_SAVE_SECONDS", "60"))


def main() -> int:
    started = time.monotonic()
    host, port = "127.0.0.1", int(os.environ.get("CLINICFLOW_PORT", "8000"))
    state_dir = Path(os.environ.get("CLINICFLOW_STATE", str(PROJECT / ".clinicflow"))).resolve()
    moto_port = int(os.environ.get("CLINICFLOW_MOTO_PORT") or stack.free_port())
    api_url = f"http://{host}:{port}"
    if not stack.port_is_free(host, port):
        print(f"Port {port} is in use (another `make run`?). Stop it, or set CLINICFLOW_PORT.", file=sys.stderr)
        return 2
    stack.point_at_endpoint(f"http://127.0.0.1:{moto_port}", moto_port, "clinicflow", api_url)
    moto = stack.start_moto(moto_port)

    import boto3

    from chalicelib.local.persist import export_table, import_table
    from chalicelib.local.resources import provision

    session = boto3.session.Session(region_name=stack.REGION)
    secret = stack.local_secret(state_dir)
    created = provision(session, "clinicflow", secret, sender="digest@clinicflow.local", visibility_timeout=30)
    os.environ["SEQUENCE_MACHINE_ARN"] = created["sequence_machine"]
    os.environ["WAITLIST_MACHINE_ARN"] = created["waitlist_machine"]
    ddb = session.client("dynamodb")
    data_file = state_dir / "dynamodb.jsonl"
    restored = import_table(ddb, created["table"], data_file)

    import app as application
    from chalicelib import schedules, sweeper, wiring
    from chalicelib.local.demo import ensure_demo, write_local_json
    from chalicelib.local.pump import QueuePump, Schedule

    rt = wiring.runtime()
    demo = ensure_demo(rt, wiring.webhook_secret, state_dir)
    resumed = sum(sweeper.resume_runs(rt, c.id) for c in schedules.clinics(rt))
    schedules.sweep_all(rt)

    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    config = CLIFactory(str(PROJECT)).create_config_obj("dev")
    server = create_local_server(application.app, config, host, port)
    stop = threading.Event()
    sqs = session.client("sqs")
    workers = [
        threading.Thread(target=server.serve_forever, name="http", daemon=True),
        threading.Thread(target=QueuePump(sqs, created["events_queue"], application.events_consumer,
                                          "events_consumer", stack.REGION).run, args=(stop,), daemon=True),
        threading.Thread(target=QueuePump(sqs, created["actions_queue"], application.actions_consumer,
                                          "actions_consumer", stack.REGION).run, args=(stop,), daemon=True),
        threading.Thread(target=QueuePump(sqs, created["jobs_queue"], application.jobs_consumer,
                                          "jobs_consumer", stack.REGION).run, args=(stop,), daemon=True),
        threading.Thread(target=Schedule(application.sweeper, "sweeper", SWEEP_EVERY_S, stack.REGION).run,
                         args=(stop,), daemon=True),
        threading.Thread(target=Schedule(application.hourly, "hourly", HOURLY_EVERY_S, stack.REGION).run,
                         args=(stop,), daemon=True),
    ]

    def save_periodically() -> None:
        while not stop.wait(SAVE_EVERY_S):
            export_table(ddb, created["table"], data_file)

    workers.append(threading.Thread(target=save_periodically, daemon=True))
    for worker in workers:
        worker.start()
    local_json = write_local_json(PROJECT, api_url, secret["operator_token"], demo)
    print(_banner(api_url, demo, local_json, state_dir, restored, resumed, time.monotonic() - started), flush=True)

    def shutdown(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    stop.wait()
    print("\nSaving state…", flush=True)
    server.shutdown()
    saved = export_table(ddb, created["table"], data_file)
    moto.stop()
    print(f"Saved {saved} items to {data_file}. Bye.", flush=True)
    return 0


def _banner(api_url: str, demo: dict[str, str], local_json: Path, state_dir: Path, restored: int,
            resumed: int, seconds: float) -> str:
    clinic = demo["clinic_id"]
    return f"""
ClinicFlow is running (ready in {seconds:.1f} s) — embedded AWS (moto), no account needed.

  API            {api_url}/v1/health
  Task desk      {api_url}/desk   (sign in with the admin token below)
  Demo clinic    {clinic}
  Webhook URL    {api_url}/v1/clinics/{clinic}/events
  Webhook secret {demo['webhook_secret']}
  Admin token    {demo['admin_token']}
  Manager token  {demo['manager_token']}

  Everything above is in {local_json}
  Data folder    {state_dir} (restored {restored} items, resumed {resumed} sequences)

Send a signed event:  .venv/bin/python -m chalicelib.local.send call.missed
Replay a clinic month: make simulate      Stop: Ctrl+C (data is saved)
"""


if __name__ == "__main__":
    sys.exit(main())
