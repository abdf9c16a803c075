"""Networks: an owner's clinics, defined by the operator, for one combined digest."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.core.runtime import Runtime
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.records import Clinic, Network
from chalicelib.platform.errors import FieldError, InvalidInput, NotFound
from chalicelib.platform.outbound import check_slack_webhook


class NetworkBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    clinic_ids: list[str] = Field(min_length=1, max_length=200)
    emails: list[str] = Field(default_factory=list)
    slack_webhook_url: str | None = None
    language: str = "ru"
    timezone: str = "Europe/Moscow"
    hour: int = Field(21, ge=0, le=23)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return str(ClinicSettings.model_validate({"timezone": value}).timezone)

    @field_validator("slack_webhook_url")
    @classmethod
    def _slack(cls, value: str | None) -> str | None:
        return check_slack_webhook(value) if value else None

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return list(ClinicSettings.model_validate({"digest": {"emails": value}}).digest.emails)


def put_network(rt: Runtime, network_id: str, body: NetworkBody) -> dict[str, Any]:
    missing = [c for c in body.clinic_ids if rt.store.get(Clinic, c, c) is None]
    if missing:
        raise InvalidInput([FieldError("clinic_ids", f"unknown clinics: {', '.join(missing)}")])
    current = rt.store.get(Network, network_id, network_id)
    network = Network(clinic_id=network_id, id=network_id, version=current.version if current else 0,
                      **body.model_dump())
    rt.store.put_record(network, rt.clock())
    return network.model_dump(mode="json", exclude={"kpi", "runs", "version", "clinic_id"})


def get_network(rt: Runtime, network_id: str) -> dict[str, Any]:
    network = rt.store.get(Network, network_id, network_id)
    if network is None:
        raise NotFound(f"no network {network_id}")
    return network.model_dump(mode="json", exclude={"kpi", "runs", "version", "clinic_id"})
