"""Sequence work on the actions queue: a state machine's step, or a one-off message (consumers adds the import's)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib.domain.records import Plan


class RunRef(BaseModel):
    clinic_id: str
    run_id: str


class StepRequest(BaseModel):
    """A state machine handing the app a step, with the token that resumes it."""

    action: Literal["call", "message", "expired", "offer"]
    run: RunRef
    plan: Plan
    token: str


class Confirm(BaseModel):
    """A vendor's notification to confirm through the vendor's API before it counts (connectors.confirm)."""

    action: Literal["confirm"]
    clinic_id: str
    vendor: str
    key: str


class Notify(BaseModel):
    """A one-off message (auto-reply, opt-out receipt, waitlist notice), idempotent by `key`."""

    action: Literal["notify"]
    clinic_id: str
    purpose: str
    key: str
    patient_id: str | None = None
    phone: str | None = None
    channel: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)



class SettleOutcome(BaseModel):
    """An outcome the desk held for undo: applied once its undo time is over (tasks.settle_pending)."""

    action: Literal["settle_outcome"]
    clinic_id: str
    task_id: str
