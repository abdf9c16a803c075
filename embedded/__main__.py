"""`make run`: the whole product on this machine, no AWS account needed."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from embedded import stack
from embedded.resources import PROJECT

if TYPE_CHECKING:
    from chalicelib.core.runtime import Runtime

SWEEP_EVERY_S = float(os.environ.get("CLINICFLOW_SWEEP_SECONDS", "60"))
HOURLY_EVERY_S = float(os.environ.get("CLINICFLOW_HOURLY_SECONDS", "300"))
SAVE_EVERY_S = float(os.environ.get("CLINICFLOW_SAVE_SECONDS", "60"))
IMPORT_SHARE = float(os.environ.get("CLINICFLOW_IMPORT_SHARE", "0.5"))
STARTED_AT = datetime.now(UTC)  # imports last seen before this ran in a previous process
EVENT_CONSUMERS = int(os.environ.get("CLINICFLOW_EVENT_CONSUMERS", "3"))
ACTION_CONSUMERS = int(os.environ.get("CLINICFLOW_ACTION_CONSUMERS", "2"))


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
    from embedded.fake_zadarma import FakeZadarma

    zadarma_api = FakeZadarma()  # Zadarma's statistics API, which confirms each call the demo PBX reports
    os.environ.update(ZADARMA_API_URL=zadarma_api.url, OUTBOUND_ALLOW_HOSTS="127.0.0.1")

    import boto3

    from embedded import durable
    from embedded.resources import provision

    session = boto3.session.Session(region_name=stack.REGION)
    secret = stack.local_secret(state_dir)
    created = provision(session, "clinicflow", secret, sender="digest@clinicflow.local", visibility_timeout=30)
    os.environ["SEQUENCE_MACHINE_ARN"] = created["sequence_machine"]
    os.environ["WAITLIST_MACHINE_ARN"] = created["waitlist_machine"]
    backend = durable.backend_of(stack.REGION)
    restored, replayed, generation = durable.restore(backend, created["table"], state_dir)
    wal = durable.WriteAheadLog(state_dir, generation)
    durable.install(wal)  # from here on, every DynamoDB write is on disk before moto answers it
    data_file = state_dir / durable.SNAPSHOT
    print(f"Restored {restored} items ({replayed} writes replayed from the write-ahead log).", flush=True)

    import app as application
    from chalicelib.handlers import wiring
    from embedded.demo import ensure_demo, write_local_json
    from embedded.pump import QueuePump, Schedule

    rt = wiring.runtime()
    demo = ensure_demo(rt, wiring.webhook_secret, state_dir, wiring.settings_saved)
    links = login_links(rt, demo)

    from chalice.cli.factory import CLIFactory

    from embedded.server import create_server

    config = CLIFactory(str(PROJECT)).create_config_obj("dev")
    server = create_server(application.app, config, host, port)
    stop = threading.Event()
    sqs = session.client("sqs")
    # As Lambda does: several event consumers at once, and one batch in flight per clinic (the FIFO queue's
    # message group), so a clinic's burst is taken a batch at a time while the other clinics' events go by it.
    pumps = [QueuePump(sqs, created["events_queue"], application.events_consumer, "events_consumer", stack.REGION)
             for _ in range(EVENT_CONSUMERS)]
    pumps += [QueuePump(sqs, created["actions_queue"], application.actions_consumer, "actions_consumer", stack.REGION)
              for _ in range(ACTION_CONSUMERS)]
    workers = [
        threading.Thread(target=server.serve_forever, name="http", daemon=True),
        *(threading.Thread(target=pump.run, args=(stop,), name=pump.name, daemon=True) for pump in pumps),
        threading.Thread(target=QueuePump(sqs, created["jobs_queue"], application.jobs_consumer,
                                          "jobs_consumer", stack.REGION).run, args=(stop,), daemon=True),
        # Imports run on their own queue, at most IMPORT_SHARE of the time: on AWS their consumer's concurrency
        # is capped (infra/); here every consumer shares one interpreter, so the cap is a duty cycle.
        threading.Thread(target=QueuePump(sqs, created["imports_queue"], application.imports_consumer,
                                          "imports_consumer", stack.REGION, batch=1, share=IMPORT_SHARE).run,
                         args=(stop,), daemon=True),
        threading.Thread(target=Schedule(application.sweeper, "sweeper", SWEEP_EVERY_S, stack.REGION).run,
                         args=(stop,), daemon=True),
        threading.Thread(target=Schedule(application.hourly, "hourly", HOURLY_EVERY_S, stack.REGION).run,
                         args=(stop,), daemon=True),
    ]

    def save_periodically() -> None:
        while not stop.wait(SAVE_EVERY_S):
            durable.snapshot(backend, created["table"], state_dir, wal)

    workers.append(threading.Thread(target=save_periodically, daemon=True))
    workers.append(threading.Thread(target=_recover, args=(rt,), name="recovery", daemon=True))
    for worker in workers:
        worker.start()
    previous_umask = os.umask(0o077)  # local.json holds the operator token: owner only (0600)
    try:
        local_json = write_local_json(PROJECT, api_url, secret["operator_token"], demo,
                                      vendors={"zadarma_api": zadarma_api.url}, login_links=links)
        local_json.chmod(0o600)  # also when an older run left it 0644
    finally:
        os.umask(previous_umask)
    print(_banner(api_url, demo, links, local_json, state_dir, restored, time.monotonic() - started), flush=True)

    def shutdown(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    stop.wait()
    print("\nSaving state…", flush=True)
    server.shutdown()
    saved = durable.snapshot(backend, created["table"], state_dir, wal)
    wal.close()
    zadarma_api.close()
    moto.stop()
    print(f"Saved {saved} items to {data_file}. Bye.", flush=True)
    return 0


def _recover(rt: Runtime) -> None:
    """While the API already serves: give in-flight runs new executions and put every pending
    event back on the queue (queues and executions lived in the previous process)."""
    from datetime import timedelta

    from chalicelib.engine import ingest
    from chalicelib.handlers import schedules, sweeper
    from chalicelib.imports import service as imports
    from chalicelib.platform.observability import logger

    try:
        clinics = schedules.clinics(rt)
        resumed = sum(sweeper.resume_runs(rt, c.id) for c in clinics)
        requeued = sum(ingest.requeue_pending(rt, c.id, older_than=timedelta(0)) for c in clinics)
        unfinished = sum(imports.tend(rt, c.id, stall=timedelta(0), before=STARTED_AT)  # their messages died too
                         for c in clinics)
        schedules.sweep_all(rt)
        print(f"Recovered: resumed {resumed} sequences, requeued {requeued} pending events, "
              f"{unfinished} unfinished imports.", flush=True)
    except Exception:  # noqa: BLE001 - the sweeper's next tick tries again
        logger.exception("recovery after start failed")


def login_links(rt: Runtime, demo: dict[str, str]) -> dict[str, str]:
    """One-time login links for the demo's administrator and manager (a code each, never the token itself)."""
    from chalicelib.edge import sessions
    from chalicelib.edge.auth import token_hash

    desk = sessions.issue_link(rt, demo["clinic_id"], token_hash(demo["admin_token"]), "admin")
    console = sessions.issue_link(rt, demo["clinic_id"], token_hash(demo["manager_token"]), "manager")
    return {"desk": desk["url"], "console": console["url"], "expires_at": desk["expires_at"]}


def _banner(api_url: str, demo: dict[str, str], links: dict[str, str], local_json: Path, state_dir: Path,
            restored: int, seconds: float) -> str:
    clinic = demo["clinic_id"]
    # The helper commands read local.json from the data folder: name it when it is not the default one.
    named = os.environ.get("CLINICFLOW_STATE")
    env = f"CLINICFLOW_STATE={named} " if named else ""
    return f"""
ClinicFlow is running (ready in {seconds:.1f} s) — embedded AWS (moto), no account needed.

  API            {api_url}/v1/health
  Task desk      {links["desk"]}
  Console        {links["console"]}
                 (one-time login links, valid 15 minutes; new ones: {env}.venv/bin/python -m embedded.login;
                 or open {api_url}/desk and sign in with the admin token below)
  Demo clinic    {clinic}
  Webhook URL    {api_url}/v1/clinics/{clinic}/events
  Webhook secret {demo['webhook_secret']}
  Admin token    {demo['admin_token']}
  Manager token  {demo['manager_token']}

  Everything above is in {local_json}
  Data folder    {state_dir} (restored {restored} items; in-flight sequences resume now; every write is
                 logged to disk before it is acknowledged, so even kill -9 loses nothing)

Send a signed event:  {env}.venv/bin/python -m embedded.send call.missed
Vendors' own webhooks: {api_url}/v1/clinics/{clinic}/connectors/<whatsapp|telegram|zadarma|mango|smsru>
  e.g.                 {env}.venv/bin/python -m embedded.send zadarma.missed   (list: send --help)
Replay a clinic month: {env}make simulate      Stop: Ctrl+C (data is saved)
"""


if __name__ == "__main__":
    sys.exit(main())
