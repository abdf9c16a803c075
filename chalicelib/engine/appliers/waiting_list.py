"""waitlist.added / waitlist.removed, from the MIS or the desk: who waits for a freed slot."""

from __future__ import annotations

from typing import Any

from chalicelib.core.runtime import Context
from chalicelib.domain.facts import stamp
from chalicelib.domain.records import Fact, WaitlistEntry
from chalicelib.edge.contract import WaitlistAdded, WaitlistData, WaitlistRemoved
from chalicelib.engine.appliers.common import note_event
from chalicelib.ports import Records


def waiting(store: Records, clinic_id: str) -> list[dict[str, Any]]:
    """The clinic's waitlist, oldest first."""
    entries = [e for e in store.waitlist(clinic_id) if e.waiting]
    entries.sort(key=lambda e: e.added.stamp if e.added else "")
    return [{"patient_id": e.patient_id, "doctor_id": e.doctor_id, "kind": e.kind, "note": e.note,
             "since": e.added.at.isoformat() if e.added else None} for e in entries]


def change(ctx: Context, body: WaitlistData, added: bool) -> None:
    """Put a patient on (or off) the waitlist from the desk: the same fact the MIS can send."""
    event = (WaitlistAdded(type="waitlist.added", occurred_at=ctx.now, data=body) if added
             else WaitlistRemoved(type="waitlist.removed", occurred_at=ctx.now, data=body))
    waitlist_changed(ctx, event)


def waitlist_changed(ctx: Context, event: WaitlistAdded | WaitlistRemoved) -> None:
    """waitlist.added / waitlist.removed: the latest fact about the patient's entry wins."""
    data = event.data
    entry = ctx.load_or_new(WaitlistEntry, data.patient_id, patient_id=data.patient_id)
    fact = Fact(at=event.occurred_at, stamp=stamp(event.occurred_at, data))
    if event.type == "waitlist.added":
        if entry.added is None or fact.stamp > entry.added.stamp:
            entry.added, entry.doctor_id, entry.kind, entry.note = fact, data.doctor_id, data.kind, data.note
    elif entry.removed is None or fact.stamp > entry.removed.stamp:
        entry.removed = fact
    ctx.save(entry)
    note_event(ctx, data.patient_id, event, doctor_id=data.doctor_id, kind=data.kind)
