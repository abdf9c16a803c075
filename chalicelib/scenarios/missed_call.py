"""A missed call: called back first from the line the patient dialled; the `lead` ladder of the settings."""

from __future__ import annotations

from chalicelib.domain.records import Call, RunContext
from chalicelib.platform.i18n import N_
from chalicelib.scenarios.base import FRESH_INQUIRY, Occasion, OwnSla, Scenario, Start


def _starts(on: Occasion) -> Start | None:
    call = on.record
    if not isinstance(call, Call) or call.missed is None or call.returned_at is not None:
        return None
    at = call.missed.at
    if on.now - at > FRESH_INQUIRY:
        return None
    return Start(purpose="callback", key=("call", call.id), trigger_at=at, not_before=at, phone=call.missed.phone,
                 call_id=call.id, context=RunContext(calls=[call.id], line=call.missed.line))


SCENARIO = Scenario(
    name="missed_call", label=N_("Missed call"), message_label=N_("Missed call not reached"),
    subject=N_("We missed your call"), triggers=("call.missed",),
    starts=_starts, purpose=None, unsolicited=False, stopped_by_booking=True, column="missed_calls",
    settings_key="lead", inquiry=True, returns_on_dialled_line=True,
    own_sla=OwnSla("missed_call", 15))
