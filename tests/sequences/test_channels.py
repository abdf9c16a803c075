"""Channel choice and fallback, with fake channels (no provider, no AWS)."""

from __future__ import annotations

from chalicelib.channels import Registry, candidates
from chalicelib.domain.details import PatientProfile
from chalicelib.domain.records import Patient
from chalicelib.engine.steps import Outgoing, StepHandler
from tests.fakes import FakeChannel


def patient(**profile: object) -> Patient:
    body = {"id": "P", "full_name": "Анна", "phones": [{"number": "+79161234567", "kind": "mobile"}], **profile}
    return Patient(clinic_id="c", id="P", profile=PatientProfile.model_validate(body))


def test_the_patients_preference_comes_first_then_the_step_then_the_rest() -> None:
    p = patient(preferred_channel="telegram", messengers={"telegram": "12345"}, email="a@b.ru")
    order = candidates("whatsapp", p, None, {"whatsapp", "telegram", "sms", "email"})
    assert [c for c, _ in order] == ["telegram", "whatsapp", "sms", "email"]
    assert dict(order)["whatsapp"] == "+79161234567"


def test_only_channels_the_deployment_has_are_offered() -> None:
    assert [c for c, _ in candidates("preferred", patient(), None, {"sms"})] == ["sms"]
    assert candidates("email", patient(), None, {"email"}) == []


def test_an_unknown_caller_can_be_reached_on_their_number() -> None:
    assert candidates("whatsapp", None, "+79990001122", {"whatsapp", "sms"}) == [
        ("whatsapp", "+79990001122"), ("sms", "+79990001122")]


def test_a_failing_channel_falls_back_to_the_next_one() -> None:
    whatsapp, sms = FakeChannel("whatsapp", failures=1), FakeChannel("sms")
    handler = StepHandler(runtime=None, channels=lambda *_: Registry({"whatsapp": whatsapp, "sms": sms}))  # type: ignore[arg-type]
    outgoing = Outgoing("m1", [("whatsapp", "+79161234567"), ("sms", "+79161234567")], "subject", "text")
    delivery = handler._deliver(outgoing)
    assert delivery is not None and delivery.channel == "sms" and sms.sent == [("+79161234567", "text")]
    assert handler._deliver(Outgoing("m2", [], "s", "t")) is None
