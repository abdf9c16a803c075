"""When a vendor's notification last arrived and what last went wrong, for the console's Подключения.

Kept on the clinic's `ConnectorState` of the vendor, written at most once a `QUIET` for the same news (a
busy PBX posts many notifications a minute; a stream of forged ones must not become a stream of writes).
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.runtime import Context, Runtime
from chalicelib.domain.records import ConnectorState

QUIET = timedelta(minutes=1)


def note(rt: Runtime, clinic_id: str, vendor: str, error: str | None) -> None:
    """A notification arrived: accepted (`error` None) or refused with `error` (a status and why)."""
    now = rt.clock()
    known = rt.store.get(ConnectorState, clinic_id, vendor)
    last = None if known is None else (known.last_error_at if error else known.last_notification_at)
    if last is not None and now - last < QUIET and (error is None or known is None or known.last_error == error):
        return

    def record(ctx: Context) -> None:
        state = ctx.load_or_new(ConnectorState, vendor)
        if error is None:
            state.last_notification_at = ctx.now
        else:
            state.last_error, state.last_error_at = error, ctx.now
        ctx.save(state)

    rt.unit(clinic_id, record)
