"""Networks: an owner's clinics, defined by the operator, for one combined digest."""

from __future__ import annotations

from typing import Any

from chalicelib.core.runtime import Runtime
from chalicelib.domain.records import Clinic, Network
from chalicelib.edge.contract import NetworkBody as NetworkBody  # the API reads it here too
from chalicelib.platform.errors import FieldError, InvalidInput, NotFound


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
