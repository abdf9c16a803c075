"""Lost-patient segments: entries kept current by every unit of work, read by index.

Each patient saved in a unit gets its segment entries rewritten in the same
transaction when what they show changed (the store indexes members by segment
and last visit's day). Reading a segment is one index query bounded by the
cutoff day (`segment_members`): the cost follows the segment, not the clinic's base.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.core.runtime import Context, Runtime, Subject
from chalicelib.domain import segments as rules
from chalicelib.domain.facts import fingerprint, iso_z
from chalicelib.domain.plans import awaits_follow_up
from chalicelib.domain.records import Appointment, Patient, SegmentEntry
from chalicelib.platform.errors import FieldError, InvalidInput, NotFound

MAX_MONTHS = 120


def settle(ctx: Context) -> None:
    """Rewrite the segment entries of every patient this unit changed, where they changed."""
    for patient in [r for r in ctx.work.records.values() if isinstance(r, Patient)]:
        _clear_fixed_numbers(ctx, patient)
        last_visit = ctx.calendar.local_date(patient.last_visit_at) if patient.last_visit_at else None
        wanted = rules.memberships(patient, last_visit)
        for name in rules.SEGMENTS:
            mark = patient.segments.get(name)
            if name not in wanted and mark is None:
                continue
            entry = _entry(ctx, patient, name, wanted.get(name), last_visit)
            seen = fingerprint(entry.model_dump(mode="json", exclude={"version", "kpi", "runs"}))
            version = int(mark.split("|", 1)[0]) if mark else 0
            if mark == f"{version}|{seen}":
                continue
            entry.version = version
            ctx.save(entry)
            patient.segments[name] = f"{version + 1}|{seen}"


def _clear_fixed_numbers(ctx: Context, patient: Patient) -> None:
    """A number marked wrong stays wrong until the MIS (or an import) stops listing it for the patient."""
    numbers = set(patient.phones)
    if patient.profile is not None and patient.profile.messengers.whatsapp:
        numbers.add(patient.profile.messengers.whatsapp)
    for number in rules.stale_wrong_numbers(patient.wrong_numbers, numbers):
        del patient.wrong_numbers[number]
        ctx.note(patient.id, ctx.now, "phone.wrong_number_cleared", key=f"wrong-number-cleared:{number}:"
                 f"{iso_z(ctx.now)}", number=number)


def _entry(ctx: Context, patient: Patient, name: str, member: rules.Membership | None,
           last_visit: Any) -> SegmentEntry:
    return SegmentEntry(
        clinic_id=ctx.clinic_id, id=f"{patient.id}|{name}", patient_id=patient.id, segment=name,
        member=member is not None, sort=member.sort if member else "", name=patient.name,
        phone=patient.phones[0] if patient.phones else None, last_visit=last_visit,
        plan_total=patient.plan_total, plan_done=patient.plan_done, value=member.value if member else 0,
        booked_until=patient.booked_until,
        follow_up=name == "plan_unfinished" and member is not None and awaits_follow_up(patient))


def track_booking(ctx: Context, appt: Appointment, subject: Subject, patient: Patient | None) -> None:
    """Note on the patient when their latest booking starts (a booking ends being lost).

    Cancelled and missed appointments do not count; a completed one does (its start is past),
    so the value depends only on the appointments' facts, whatever order they came in.
    """
    if appt.patient_id is None:
        return
    patient = patient or ctx.load_or_new(Patient, appt.patient_id)
    current = {a.id: a for a in subject.of(Appointment)}
    current[appt.id] = appt
    latest = max((a.details.starts_at for a in current.values()
                  if a.details and a.status not in ("cancelled", "no_show", "unknown")), default=None)
    if patient.booked_until != latest:
        patient.booked_until = latest
        ctx.save(patient)


# ---- reading ----------------------------------------------------------------------------------

def months_param(raw: str | None) -> int:
    if raw in (None, ""):
        return rules.DEFAULT_MONTHS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_MONTHS:
        raise InvalidInput([FieldError("months", f"a whole number of months, 1 to {MAX_MONTHS}")])
    return int(raw)


def members(rt: Runtime, clinic_id: str, name: str, months: int) -> list[SegmentEntry]:
    """The patients in a segment now, most valuable first (one index query, bounded by the cutoff)."""
    if name not in rules.SEGMENTS:
        raise NotFound(f"no segment {name}; segments: {', '.join(rules.SEGMENTS)}")
    clinic = rt.clinic(clinic_id)
    now = rt.clock()
    last_day = rules.cutoff(name, now.astimezone(clinic.settings.zone).date(), months)
    found = rt.store.segment_members(clinic_id, name, last_day)
    if name not in rules.WON_BACK:
        return rules.by_value(found)  # a wrong number needs fixing whether or not the patient is booked
    return rules.by_value([e for e in found if not rules.booked(e.booked_until, now)])



def counts(rt: Runtime, clinic_id: str, months: int) -> dict[str, Any]:
    return {"months": months,
            "segments": {name: len(members(rt, clinic_id, name, months)) for name in rules.SEGMENTS}}


def entry_view(entry: SegmentEntry, now: datetime) -> dict[str, Any]:
    return {
        "patient": {"id": entry.patient_id, "name": entry.name, "phone": entry.phone},
        "last_visit": entry.last_visit.isoformat() if entry.last_visit else None,
        "plan_total": f"{entry.plan_total:.2f}" if entry.plan_total is not None else None,
        "plan_done": f"{entry.plan_done:.2f}" if entry.plan_done is not None else None,
        "value": f"{entry.value:.2f}",
        "booked_until": iso_z(entry.booked_until) if entry.booked_until else None,
    }


def segment_view(rt: Runtime, clinic_id: str, name: str, months: int) -> dict[str, Any]:
    found = members(rt, clinic_id, name, months)
    now = rt.clock()
    return {"segment": name, "months": months if name == "lapsed" else None, "count": len(found),
            "value": f"{sum((e.value for e in found), Decimal('0')):.2f}",  # what the segment's plans still hold
            "patients": [entry_view(e, now) for e in found]}
