"""The sweeper (every few minutes): nothing stuck, nothing forgotten.

- pending events the queue lost go back to it;
- runs whose execution never started are started (names make it idempotent);
- open call tasks heartbeat their state machine;
- runs the app holds as running whose execution died (failed, timed out, stopped
  behind the app's back) resume from their step, or end with a reason;
- overdue tasks are escalated to the manager;
- imports that went silent are revived, or ended with the reason (chalicelib/imports/service.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from chalicelib import scenarios
from chalicelib.core import sequences
from chalicelib.core.runtime import Context, Runtime
from chalicelib.desk.tasks import list_tasks, settle_pending
from chalicelib.domain.records import CallTask, Plan, SequenceRun
from chalicelib.engine import ingest
from chalicelib.imports import service as imports
from chalicelib.platform.errors import StaleToken
from chalicelib.platform.observability import logger

STARTING_GRACE = timedelta(minutes=2)
STALL_GRACE = timedelta(minutes=10)  # a due step not handed over by then: is its execution alive?
MAX_REVIVALS = 3
ESCALATE_AFTER = timedelta(hours=1)


@dataclass
class SweepReport:
    requeued: int = 0
    started: int = 0
    heartbeats: int = 0
    revived: int = 0
    ended: int = 0
    escalated: list[CallTask] = field(default_factory=list)
    imports: int = 0


def sweep(rt: Runtime, clinic_id: str) -> SweepReport:
    from chalicelib import connectors

    report = SweepReport(requeued=ingest.requeue_pending(rt, clinic_id) + connectors.ask_again(rt, clinic_id))
    report.started = ensure_started(rt, clinic_id)
    report.heartbeats, report.escalated, orphaned = tend_open_tasks(rt, clinic_id)
    report.revived, report.ended = repair_dead_runs(rt, clinic_id, orphaned)
    report.imports = imports.tend(rt, clinic_id)
    return report


def run_payload(run: SequenceRun) -> dict[str, object]:
    return {"run": {"clinic_id": run.clinic_id, "run_id": run.id},
            "plan": run.plan.model_dump() if run.plan else {}}


def ensure_started(rt: Runtime, clinic_id: str) -> int:
    runs = rt.store.starting_runs(clinic_id, rt.clock() - STARTING_GRACE)
    for run in runs:
        rt.workflows.start(rt.machines.for_kind(scenarios.get(run.scenario).kind), run.execution, run_payload(run))
        rt.unit(clinic_id, partial(_running, run_id=run.id))
    return len(runs)


def _running(ctx: Context, run_id: str) -> None:
    run = ctx.load(SequenceRun, run_id)
    if run is not None and run.status == "starting":
        run.status = "running"
        ctx.save(run)


def tend_open_tasks(rt: Runtime, clinic_id: str) -> tuple[int, list[CallTask], set[str]]:
    """Heartbeat every open task; returns the escalated ones and the runs whose token is gone."""
    now = rt.clock()
    beats, escalated, orphaned = 0, [], set()
    for task in list_tasks(rt.store, clinic_id, "open", limit=1000):
        if task.pending_until is not None and task.pending_until < now:  # its queue message was lost
            rt.unit(clinic_id, partial(settle_pending, task_id=task.id))
        if task.token:
            try:
                rt.workflows.heartbeat(task.token)
                beats += 1
            except StaleToken:
                orphaned |= {task.run_id} if task.run_id else set()
        if task.escalated_at is None and task.overdue_at + ESCALATE_AFTER < now:
            done = rt.unit(clinic_id, partial(_escalate, task_id=task.id))
            if done is not None:
                escalated.append(done)
    return beats, escalated, orphaned


def repair_dead_runs(rt: Runtime, clinic_id: str, suspects: set[str]) -> tuple[int, int]:
    """Runs whose due step never came, or whose task token is gone: ask Step Functions if they live.

    Only those are asked (a waiting run is left alone), so the cost follows the trouble,
    not the number of runs in flight. Returns (revived, ended).
    """
    stalled = rt.store.due_runs(clinic_id, rt.clock() - STALL_GRACE)
    wanted = sorted({r.id for r in stalled if not r.open_task} | suspects)
    revived = ended = 0
    for run in rt.store.get_many(SequenceRun, clinic_id, wanted).values():
        if not run.active:
            continue
        status = rt.workflows.status(rt.workflows.execution_arn(rt.machines.for_kind(scenarios.get(run.scenario).kind),
                                                                run.execution))
        if status == "RUNNING":
            continue
        restarted = rt.unit(clinic_id, partial(_revive, run_id=run.id, status=status))
        if restarted is None:
            ended += 1
            continue
        rt.workflows.start(rt.machines.for_kind(scenarios.get(restarted.scenario).kind), restarted.execution,
                           run_payload(restarted))
        revived += 1
    return revived, ended


def _revive(ctx: Context, run_id: str, status: str) -> SequenceRun | None:
    """Resume a dead run from its step; one that keeps dying, or already ended there, is stopped."""
    run = ctx.load(SequenceRun, run_id)
    if run is None or not run.active:
        return None
    why = f"execution_{status.lower()}"
    logger.warning("run's execution is not running", extra={"run_id": run.id, "status": status})
    if status == "SUCCEEDED" or run.plan is None or run.restarts >= MAX_REVIVALS:
        sequences.stop(ctx, run, why)
        return None
    ctx.note(run.patient_id, ctx.now, "sequence.resumed", key=f"{run.id}:resumed:{run.restarts + 1}",
             scenario=run.scenario, run_id=run.id, reason=why)
    return _bump(ctx, run_id)


def _escalate(ctx: Context, task_id: str) -> CallTask | None:
    task = ctx.load(CallTask, task_id)
    if task is None or task.status != "open" or task.escalated_at is not None:
        return None
    task.escalated_at = ctx.now
    ctx.save(task)
    ctx.note(task.patient_id, ctx.now, "task.escalated", key=f"{task.id}:escalated", task_id=task.id,
             scenario=task.scenario)
    return task


def resume_runs(rt: Runtime, clinic_id: str) -> int:
    """After the local AWS endpoint restarts, give every in-flight run a new execution.

    It starts from the step its run record holds; an open call task gets the new
    execution's token when that step is handed over again.
    """
    resumed = 0
    for read in (rt.store.due_runs, rt.store.starting_runs):  # running ones first, as before
        for run in read(clinic_id):
            restarted = rt.unit(clinic_id, partial(_bump, run_id=run.id))
            if restarted is not None:
                rt.workflows.start(rt.machines.for_kind(scenarios.get(restarted.scenario).kind), restarted.execution,
                                   run_payload(restarted))
                resumed += 1
    return resumed


def _bump(ctx: Context, run_id: str) -> SequenceRun | None:
    run = ctx.load(SequenceRun, run_id)
    if run is None or not run.active or run.plan is None:
        return None
    run.restarts += 1
    run.status = "running"
    if run.plan.at < ctx.now:
        run.plan = Plan.model_validate({**run.plan.model_dump(), "at": ctx.now})
    ctx.save(run)
    return run
