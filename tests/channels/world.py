"""Two clinics in one deployment, each sending through its own accounts at the fake vendors.

The engine is the real one (units of work, the step handler, the per-clinic channel book, the
adapters over HTTP); only the records and queues are in memory, and both clocks (ours and the
fakes') are moved by the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from chalicelib.channels import http
from chalicelib.channels.identities import Bases, ChannelBook
from chalicelib.connectors.base import VendorRequest
from chalicelib.connectors.whatsapp import WhatsApp
from chalicelib.core.runtime import Runtime
from chalicelib.core.work import Notify
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.details import PatientProfile
from chalicelib.domain.records import Clinic, OutboundMessage, Patient, TimelineEntry
from chalicelib.engine import appliers as events
from chalicelib.engine.ingest import EVENT_ADAPTER
from chalicelib.engine.steps import StepHandler
from chalicelib.platform.settings import get_settings
from tests.fakes import FakeQueue, FakeWorkflows, MemoryRecords
from tests.vendor_fakes.base import ManualClock
from tests.vendor_fakes.smsru import FakeSmsRu
from tests.vendor_fakes.telegram import FakeTelegram
from tests.vendor_fakes.whatsapp import FakeWhatsApp

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    whatsapp: FakeWhatsApp
    telegram: FakeTelegram
    smsru: FakeSmsRu
    vendor_clock: ManualClock
    clock: Clock = field(default_factory=Clock)
    store: MemoryRecords = field(default_factory=MemoryRecords)
    actions: FakeQueue = field(default_factory=FakeQueue)
    waits: list[float] = field(default_factory=list)  # what the adapters slept for a vendor's rate limit
    handled: int = 0

    def __post_init__(self) -> None:
        self.rt = Runtime(get_settings(), self.store, FakeWorkflows(), self.actions, FakeQueue(), FakeQueue(),
                          clock=self.clock)
        bases = Bases(whatsapp=f"{self.whatsapp.base_url}/v21.0", telegram=self.telegram.base_url,
                      smsru=self.smsru.base_url)
        self.book = ChannelBook(lambda: {}, lambda: bases)
        self.handler = StepHandler(self.rt, self.book)

    def clinic(self, clinic_id: str, name: str, **settings: Any) -> None:
        record = Clinic(clinic_id=clinic_id, id=clinic_id, name=name, created_at=self.clock.now,
                        settings=ClinicSettings.model_validate(settings))
        self.store.put_record(record, self.clock.now)

    def patient(self, clinic_id: str, patient_id: str, phone: str, **extra: Any) -> None:
        profile = {"id": patient_id, "full_name": "Иванова Анна Петровна",
                   "phones": [{"number": phone, "kind": "mobile"}], **extra.pop("profile", {})}
        record = Patient(clinic_id=clinic_id, id=patient_id, profile=PatientProfile.model_validate(profile), **extra)
        self.store.put_record(record, self.clock.now)

    def later(self, hours: float) -> None:
        self.clock.now += timedelta(hours=hours)
        self.vendor_clock.advance(hours * 3600)

    def patient_wrote(self, clinic_id: str, patient_id: str, phone_number_id: str, wa_id: str) -> None:
        """The patient wrote to the clinic's WhatsApp: its window opens at Meta and in our records."""
        self.whatsapp.customer_wrote(phone_number_id, wa_id)
        patient = self.store.get(Patient, clinic_id, patient_id)
        assert patient is not None
        patient.last_inbound["whatsapp"] = self.clock.now
        self.store.put_record(patient, self.clock.now)

    def send(self, clinic_id: str, patient_id: str, key: str, purpose: str = "after_hours",
             channel: str | None = None) -> OutboundMessage:
        """A one-off message to the patient, as the actions queue hands it over, and what became of it."""
        self.handler.handle(Notify(action="notify", clinic_id=clinic_id, purpose=purpose, key=key,
                                   patient_id=patient_id, channel=channel))
        return self.message(clinic_id, key)

    def pump(self) -> None:
        """Hand over what the units enqueued (a resend on the next channel)."""
        while self.handled < len(self.actions.sent):
            body = self.actions.sent[self.handled]
            self.handled += 1
            if body.get("action") == "notify":
                self.handler.handle(Notify.model_validate(body))

    def message(self, clinic_id: str, message_id: str) -> OutboundMessage:
        found = self.store.get(OutboundMessage, clinic_id, message_id)
        assert found is not None, message_id
        return found

    def timeline(self, clinic_id: str, patient_id: str, kind: str) -> list[dict[str, Any]]:
        entries: list[TimelineEntry] = self.store.timeline(clinic_id, patient_id)
        return [e.detail for e in entries if e.kind == kind]

    def status_webhook(self, clinic_id: str, wamid: str, status: str, app_secret: str) -> None:
        """Meta's status webhook, through our WhatsApp connector's parsing, applied as the events queue does."""
        body, headers = self.whatsapp.status_webhook(wamid, status, app_secret=app_secret)
        settings = self.rt.clinic(clinic_id).settings
        conf = settings.connectors.whatsapp
        raw = body if isinstance(body, bytes) else str(body).encode()
        request = VendorRequest("POST", raw, {k.lower(): v for k, v in headers.items()})
        connector = WhatsApp()
        assert conf is not None
        connector.verify(conf, request)
        for inbound in connector.parse(conf, request, settings).events:
            event = EVENT_ADAPTER.validate_python(inbound.event, context={"region": "RU"})
            self.rt.unit(clinic_id, partial(events.apply, event=event))
        self.pump()


def no_sleep(world: World) -> Any:
    """The adapters' rate-limit waits, recorded instead of slept."""
    return lambda seconds: world.waits.append(seconds)


__all__ = ["World", "http", "no_sleep"]
