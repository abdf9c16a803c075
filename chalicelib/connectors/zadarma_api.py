"""Zadarma's user API, the part that confirms a call: `GET /v1/statistics/pbx/`.

A notification's `Signature` covers only the numbers and the start time of a call
(see zadarma.py), so what happened on the call — answered or not, how long, its
`pbx_call_id` — is read back from the PBX's own statistics before it changes anything.

Sources: the API's authorisation rule and `statistics/pbx` in Zadarma's OpenAPI description,
https://github.com/zadarma/openapi/blob/master/spec/v1/openapi.json ("Signature algorithm:
base64(HMAC-SHA1(method + queryString + md5(queryString), secretKey))", params sorted by key,
RFC 1738 query; `stats[]` rows with `call_id`, `sip`, `callstart`, `clid`, `destination`,
`disposition`, `seconds`, `is_recorded`, `pbx_call_id`), and the official client
https://github.com/zadarma/user-api-v1/blob/master/lib/Client.php (`format=json` is signed with the
other parameters; `Authorization: <key>:<signature>`; PHP's hash_hmac gives hex, which is base64-encoded).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from chalicelib.channels.http import _Http
from chalicelib.ports import DeliveryError

STATISTICS = "/v1/statistics/pbx/"
CALLBACK = "/v1/request/callback/"
RECORD = "/v1/pbx/record/request/"
DEFAULT_URL = "https://api.zadarma.com"


class PbxCall(BaseModel):
    """One row of `stats[]` (format version 2); numbers come as JSON numbers or strings."""

    model_config = ConfigDict(extra="ignore")

    call_id: str = ""
    sip: str = ""
    callstart: str
    clid: str = ""
    destination: str = ""
    disposition: str
    seconds: int = 0
    is_recorded: bool = False
    pbx_call_id: str = ""

    @field_validator("call_id", "sip", "clid", "destination", "pbx_call_id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value)


def api_signature(method: str, params: dict[str, str], secret: str) -> str:
    """The `Authorization` signature of one API call, as Zadarma's documentation computes it."""
    query = urlencode(sorted(params.items()))
    data = method + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324 - Zadarma's own scheme
    return base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest().encode()).decode()


class ZadarmaApi(_Http):
    """Reads a clinic's PBX call statistics with the clinic's own API key and secret.

    Parameters
    ----------
    base_url:
        The API root (ZADARMA_API_URL; the local stack and tests point it at a fake that answers as
        the documentation says).
    """

    def __init__(self, base_url: str | None = None, pool: Any = None) -> None:
        super().__init__(pool)
        self._base = (base_url or os.environ.get("ZADARMA_API_URL") or DEFAULT_URL).rstrip("/")

    def pbx_calls(self, key: str, secret: str, start: str, end: str, call_type: str) -> list[PbxCall]:
        """Calls that started between `start` and `end` (`YYYY-MM-DD HH:MM:SS`, the PBX's time zone)."""
        params = {"start": start, "end": end, "version": "2", "call_type": call_type, "format": "json"}
        answer = self.request("GET", f"{self._base}{STATISTICS}?{urlencode(sorted(params.items()))}",
                              headers={"Authorization": f"{key}:{api_signature(STATISTICS, params, secret)}"})
        if answer.get("status") != "success":
            raise DeliveryError("Zadarma answered without success")
        try:
            return [PbxCall.model_validate(row) for row in answer.get("stats") or []]
        except ValidationError as exc:
            raise DeliveryError("Zadarma's statistics are not in the documented shape") from exc

    def _get(self, key: str, secret: str, method: str, params: dict[str, str]) -> dict[str, Any]:
        """One signed GET (the official client's rule: `format=json` is signed with the other parameters)."""
        params = {**params, "format": "json"}
        answer = self.request("GET", f"{self._base}{method}?{urlencode(sorted(params.items()))}",
                              headers={"Authorization": f"{key}:{api_signature(method, params, secret)}"})
        if answer.get("status") != "success":
            raise DeliveryError("Zadarma answered without success")
        return answer

    def callback(self, key: str, secret: str, extension: str, number: str) -> None:
        """`/v1/request/callback/`: ring the extension (`from`), then dial `to` as that extension (`sip`).

        Zadarma takes no line here: the number shown is the extension's CallerID in the PBX settings."""
        self._get(key, secret, CALLBACK, {"from": extension, "to": number.lstrip("+"), "sip": extension})

    def record_link(self, key: str, secret: str, call_id: str, lifetime: int = 1800) -> str:
        """`/v1/pbx/record/request/`: a link to the recording, valid for `lifetime` seconds (never stored)."""
        answer = self._get(key, secret, RECORD, {"call_id": call_id, "lifetime": str(lifetime)})
        link = answer.get("link") or next(iter(answer.get("links") or []), None)
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            raise DeliveryError("Zadarma answered without a recording link")
        return link
