"""The service tier: the whole engine over in-memory ports, with a driver that plays the state machines.

No AWS and no moto: events are applied through the same units of work, steps
are handed to the same step handler, and the sequence machine's rules (wait
until `plan.at`, hand the step with a token, answer `done` to end) are played
by `Clinic.pump` on a clock the test moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.channels import Registry
from chalicelib.core.runtime import Runtime
from chalicelib.core.segment_entries import settle as settle_segments
from chalicelib.core.work import Notify, RunRef, StepRequest
from chalicelib.desk import tasks
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.records import CallTask, Plan, SequenceRun
from chalicelib.domain.records import Clinic as ClinicRecord
from chalicelib.edge.auth import Staff
from chalicelib.edge.contract import TaskOutcome
from chalicelib.engine import appliers as events
from chalicelib.engine.ingest import EVENT_ADAPTER
from chalicelib.engine.planners import recalls as recall
from chalicelib.engine.steps import StepHandler
from chalicelib.platform.settings import get_settings
from tests.fakes import FakeChannel, FakeQueue, FakeWorkflows, MemoryRecords
from tests.harness import open_all_day

CLINIC = "clinic-1"
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Execution:
    run_id: str
    plan: Plan
    token: str | None = None
    steps: int = 0


@dataclass
class Clinic:
    """One clinic on in-memory ports, and the state machines played in process."""

    settings: dict[str, Any] = field(default_factory=open_all_day)
    clock: Clock = field(default_factory=Clock)
    store: MemoryRecords = field(default_factory=MemoryRecords)
    workflows: FakeWorkflows = field(default_factory=FakeWorkflows)
    actions: FakeQueue = field(default_factory=FakeQueue)
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    executions: dict[str, Execution] = field(default_factory=dict)
    _answered: int = 0
    _sent: int = 0

    def __post_init__(self) -> None:
        self.rt = Runtime(get_settings(), self.store, self.workflows, self.actions, FakeQueue(), FakeQueue(),
                          clock=self.clock, settlers=(settle_segments,))
        self.channels = {name: FakeChannel(name) for name in ("whatsapp", "telegram", "sms", "email")}
        self.handler = StepHandler(self.rt, lambda *_: Registry(dict(self.channels)))
        clinic = ClinicRecord(clinic_id=CLINIC, id=CLINIC, name="Улыбка", created_at=self.clock.now,
                              settings=ClinicSettings.model_validate(self.settings))
        self.store.put_record(clinic, self.clock.now)

    # ---- inputs ------------------------------------------------------------------------------

    def send(self, event: dict[str, Any]) -> None:
        """Apply one contract event, as the events consumer does."""
        parsed = EVENT_ADAPTER.validate_python(event, context={"region": "RU"})
        self.rt.unit(CLINIC, lambda ctx: events.apply(ctx, parsed))
        self.pump()

    def outcome(self, task_id: str, outcome: str, **extra: Any) -> None:
        body = TaskOutcome.model_validate({"outcome": outcome, **extra})
        staff = Staff(role="admin", clinic_id=CLINIC, admin_id="U-1")
        self.rt.unit(CLINIC, lambda ctx: tasks.record_outcome(ctx, task_id, body, staff))
        self.pump()

    def recalls(self, day: Any) -> dict[str, object]:
        report = recall.run_recalls(self.rt, CLINIC, day)
        self.pump()
        return report

    def later(self, **delta: float) -> None:
        self.clock.now += timedelta(**delta)
        self.pump()

    # ---- what the clinic sees ------------------------------------------------------------------

    def tasks(self) -> list[CallTask]:
        return tasks.list_tasks(self.store, CLINIC, "open")

    def runs(self) -> list[SequenceRun]:
        return [r for r in (self.store.get(SequenceRun, CLINIC, e.run_id) for e in self.executions.values()) if r]

    def timeline(self, patient_id: str) -> list[str]:
        return [e.kind for e in self.store.timeline(CLINIC, patient_id)]

    def sent(self, channel: str = "whatsapp") -> list[str]:
        return [text for _, text in self.channels[channel].sent]

    # ---- the state machines ---------------------------------------------------------------------

    def pump(self) -> None:
        """Play the machines until nothing moves: start, wait, hand steps, take answers, send notices."""
        for _ in range(200):
            if not (self._start_new() or self._take_answers() or self._notices() or self._due_steps()):
                return
        raise AssertionError("the machines never settled")

    def _start_new(self) -> bool:
        new = [(name, p) for name, p in self.workflows.started.items() if name not in self.executions]
        for name, payload in new:
            self.executions[name] = Execution(payload["run"]["run_id"], Plan.model_validate(payload["plan"]))
        return bool(new)

    def _take_answers(self) -> bool:
        fresh = self.workflows.answers[self._answered:]
        self._answered = len(self.workflows.answers)
        for token, output in fresh:
            execution = next((e for e in self.executions.values() if e.token == token), None)
            if execution is not None:
                execution.plan, execution.token = Plan.model_validate(output), None
        return bool(fresh)

    def _notices(self) -> bool:
        fresh = self.actions.sent[self._sent:]
        self._sent = len(self.actions.sent)
        for body in fresh:
            self.handler.handle(Notify.model_validate(body))
        return bool(fresh)

    def _due_steps(self) -> bool:
        for name, execution in self.executions.items():
            if execution.token or execution.plan.action == "done" or self._stopped(name):
                continue
            if execution.plan.at > self.clock.now:
                continue
            execution.steps += 1
            execution.token = f"{name}#{execution.steps}"
            request = StepRequest(action=execution.plan.action, run=RunRef(clinic_id=CLINIC, run_id=execution.run_id),
                                  plan=execution.plan, token=execution.token)
            self.handler.handle(request)
            return True
        return False

    def _stopped(self, name: str) -> bool:
        return any(arn.endswith(f":{name}") for arn in self.workflows.stopped)
