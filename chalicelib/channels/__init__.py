"""Outbound channels: which one reaches a patient, and the registry of adapters."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from chalicelib.domain.records import Patient
from chalicelib.ports import Channel

MESSAGE_CHANNELS = ("whatsapp", "telegram", "sms", "email")


def provider_key(provider_id: str) -> str:
    """The link key under which a provider's message id finds our outbound message (`OM#id`)."""
    return f"provider:{provider_id}"


def address_for(channel: str, patient: Patient | None, phone: str | None, avoid: Collection[str] = ()) -> str | None:
    """Where `channel` reaches this patient (or the bare phone of an unknown caller).

    A number marked wrong (on the patient, or in `avoid`) is nobody's address: a stranger answers it."""
    profile = patient.profile if patient else None
    wrong = {*avoid, *(patient.wrong_numbers if patient else ())}
    mobiles = [p.number for p in profile.phones if p.kind == "mobile"] if profile else []
    numbers = [n for n in (mobiles or ([phone] if phone else [])) if n not in wrong]
    if channel == "whatsapp":
        whatsapp = profile.messengers.whatsapp if profile else None
        return (whatsapp if whatsapp not in wrong else None) or (numbers[0] if numbers else None)
    if channel == "telegram":  # a chat bound through the invite link, else the MIS's handle
        return (patient.telegram_chat if patient else None) or (profile.messengers.telegram if profile else None)
    if channel == "sms":
        return numbers[0] if numbers else None
    if channel == "email":
        return profile.email if profile else None
    return None


def candidates(wanted: str | None, patient: Patient | None, phone: str | None,
               available: set[str], avoid: Collection[str] = ()) -> list[tuple[str, str]]:
    """Channels to try, best first: the patient's preference, the step's, then the rest."""
    order: list[str] = []
    preferred = patient.profile.preferred_channel if patient and patient.profile else None
    for name in (preferred, None if wanted == "preferred" else wanted, *MESSAGE_CHANNELS):
        if name in MESSAGE_CHANNELS and name not in order:
            order.append(name)
    out = []
    for name in order:
        address = address_for(name, patient, phone, avoid)
        if address and name in available:
            out.append((name, address))
    return out


@dataclass(frozen=True)
class Registry:
    """The adapters of this deployment, by channel name."""

    adapters: Mapping[str, Channel]

    @property
    def available(self) -> set[str]:
        return set(self.adapters)

    def get(self, name: str) -> Channel:
        return self.adapters[name]
