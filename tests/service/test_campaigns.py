"""Win-back campaigns on in-memory ports: the daily opener, the campaign's ladder and consent, attribution."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.campaigns import opener as campaign_opener
from chalicelib.campaigns import service as campaigns
from chalicelib.domain.campaign_rules import CampaignIn
from chalicelib.domain.records import Clinic as ClinicRecord
from tests.service.clinic import CLINIC, Clinic
from tests.service.test_scenarios import at, event

CALL = [{"action": "call", "line": "city", "delay_minutes": 0},
        {"action": "message", "channel": "whatsapp", "delay_minutes": 0}]


def lost_patient(clinic: Clinic, pid: str, plan: str | None = None, months_ago: int = 9,
                 marketing: bool = True) -> None:
    """A patient last seen `months_ago` (a stale visit starts nothing), maybe with an unfinished plan."""
    phone = f"+7916{int(pid[2:]):07d}"
    clinic.send(event(clinic, "patient.upserted", {"patient": {
        "id": pid, "full_name": f"Пациентова Анна {pid}", "phones": [{"number": phone, "kind": "mobile"}],
        "messengers": {"whatsapp": phone}, "consent": {"recall": True, "marketing": marketing}}}, seconds=-60))
    visit = {"id": f"V-{pid}", "patient_id": pid, "doctor_id": "D-1", "kind": "treatment", "amount": "3000.00"}
    clinic.send(event(clinic, "visit.completed", {"visit": visit}, days=-30 * months_ago))
    if plan:
        clinic.send(event(clinic, "treatment_plan.accepted", {"plan_id": f"PL-{pid}", "patient_id": pid,
                                                              "doctor_id": "D-1", "amount": plan},
                          days=-30 * months_ago))


def new_campaign(clinic: Clinic, **extra: Any) -> str:
    body = {"name": "Вернуть потерянных", "segment": {"name": "lapsed", "months": 6}, "steps": CALL,
            "daily_limit": 2, "offer": "Чистка со скидкой 20%", "cost_per_contact": "15.00", **extra}
    return campaigns.create(clinic.rt, CLINIC, CampaignIn.model_validate(body))["campaign_id"]


def tick(clinic: Clinic) -> dict[str, Any]:
    record = clinic.store.get(ClinicRecord, CLINIC, CLINIC)
    assert record is not None
    report = campaign_opener.open_campaigns(clinic.rt, record, clinic.clock.now)
    clinic.pump()
    return report


def figures(clinic: Clinic, campaign_id: str) -> dict[str, Any]:
    return campaigns.show(clinic.rt, CLINIC, campaign_id)


def test_the_opener_opens_the_daily_limit_largest_plan_first_with_the_offer_and_value() -> None:
    clinic = Clinic()
    lost_patient(clinic, "P-1", months_ago=12)
    lost_patient(clinic, "P-2", plan="90000.00")
    lost_patient(clinic, "P-3", plan="20000.00")
    lost_patient(clinic, "P-4", months_ago=7)
    cid = new_campaign(clinic)
    report = tick(clinic)["campaigns"][cid]
    assert report["opened"] == ["P-2", "P-3"]
    desk = {t.patient_id: t for t in clinic.tasks()}
    assert set(desk) == {"P-2", "P-3"} and all(t.scenario == "campaign" for t in desk.values())
    assert "Чистка со скидкой 20%" in desk["P-2"].hint and desk["P-2"].context.value == "90000.00"
    assert tick(clinic)["campaigns"][cid]["opened"] == [], "the day's limit is spent"
    clinic.later(days=1)
    assert tick(clinic)["campaigns"][cid]["opened"] == ["P-1", "P-4"], "then the longest lapsed"
    assert figures(clinic, cid)["patients"] == 4


def test_an_offer_needs_marketing_consent_and_a_plain_invitation_recall() -> None:
    clinic = Clinic()
    lost_patient(clinic, "P-1", plan="5000.00", marketing=False)
    offer = new_campaign(clinic)
    assert tick(clinic)["campaigns"][offer]["skipped"] == {"no_consent_marketing": 1}
    plain = new_campaign(clinic, offer="")
    assert tick(clinic)["campaigns"][plain]["opened"] == ["P-1"]
    assert campaigns.show(clinic.rt, CLINIC, plain)["purpose"] == "recall"


def test_a_paused_campaign_opens_nothing_until_resumed() -> None:
    clinic = Clinic()
    lost_patient(clinic, "P-1")
    cid = new_campaign(clinic)
    assert campaigns.change_status(clinic.rt, CLINIC, cid, "pause")["status"] == "paused"
    assert tick(clinic)["campaigns"] == {}
    campaigns.change_status(clinic.rt, CLINIC, cid, "resume")
    assert tick(clinic)["campaigns"][cid]["opened"] == ["P-1"]


def test_contacts_reach_booking_and_visit_make_revenue_and_roi() -> None:
    clinic = Clinic()
    lost_patient(clinic, "P-1", plan="40000.00")
    cid = new_campaign(clinic)
    tick(clinic)
    task = clinic.tasks()[0]
    clinic.outcome(task.id, "no_answer")  # worked, not reached; then the message goes out
    assert len(clinic.sent()) == 1 and "Чистка со скидкой 20%" in clinic.sent()[0]
    shown = figures(clinic, cid)
    assert (shown["contacted"], shown["contacts"], shown["reached"], shown["cost"]) == (1, 2, 0, "30.00")
    appt = {"id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "admin_id": "U-1", "kind": "treatment",
            "service": "Лечение", "starts_at": at(clinic, days=2), "ends_at": at(clinic, days=2, hours=1)}
    clinic.send(event(clinic, "appointment.created", {"appointment": appt}))
    clinic.later(days=2, hours=1)
    clinic.send(event(clinic, "visit.completed", {"visit": {
        "id": "V-9", "appointment_id": "A-1", "patient_id": "P-1", "doctor_id": "D-1", "kind": "treatment",
        "amount": "12000.00"}}))
    shown = figures(clinic, cid)
    assert (shown["booked"], shown["came"], shown["revenue"]) == (1, 1, "12000.00")
    assert Decimal(shown["roi"]) == ((Decimal("12000") - Decimal("30")) / Decimal("30")).quantize(Decimal("0.01"))


def test_a_reached_call_credits_the_administrator_and_a_visit_after_60_days_earns_nothing() -> None:
    clinic = Clinic()
    lost_patient(clinic, "P-1", plan="40000.00")
    cid = new_campaign(clinic)
    tick(clinic)
    clinic.outcome(clinic.tasks()[0].id, "declined", reason="дорого")
    shown = figures(clinic, cid)
    assert shown["reached"] == 1 and shown["by_admin"]["U-1"]["reached"] == 1
    clinic.later(days=61)
    clinic.send(event(clinic, "visit.completed", {"visit": {
        "id": "V-9", "patient_id": "P-1", "doctor_id": "D-1", "kind": "treatment", "amount": "5000.00"}}))
    assert figures(clinic, cid)["revenue"] == "0.00"


def test_the_digest_says_what_campaigns_returned_this_month() -> None:
    from chalicelib.console.digest import digest, local_today
    from chalicelib.console.digest.render import email

    clinic = Clinic()
    lost_patient(clinic, "P-1", plan="40000.00")
    cid = new_campaign(clinic)
    tick(clinic)
    clinic.outcome(clinic.tasks()[0].id, "booked")
    clinic.send(event(clinic, "visit.completed", {"visit": {
        "id": "V-9", "patient_id": "P-1", "doctor_id": "D-1", "kind": "treatment", "amount": "12000.00"}}))
    record = clinic.store.get(ClinicRecord, CLINIC, CLINIC)
    assert record is not None
    today = digest(clinic.store, record, local_today(record, clinic.clock.now), clinic.clock.now)
    returned = today["campaigns_30d"]
    assert returned["returned"] == "12000.00" and returned["by_campaign"][cid]["revenue_30d"] == "12000.00"
    assert "ClinicFlow вернул 12" in email(record, today, today).text
