"""Mango Office VPBX API, the part the desk uses: `commands/callback` and `queries/recording/post`.

Source: "API Виртуальной АТС MANGO OFFICE" v1.9 (https://www.mango-office.ru/upload/api/MangoOffice_VPBX_API_v1.9.pdf):
§2.4 every request is a form POST of `vpbx_api_key`, `sign` = hex SHA-256 of key + json + salt, and `json`;
§3.2.1 callback `{"command_id", "from": {"extension"}, "to_number", "line_number"}` answered
`{"result": 1000}` (a 3xxx code is a refusal); §3.5.1 recording/post `{"recording_id", "action": "play"}`
answered `302 Found` to a temporary one-time link (so the redirect is read here, not followed).
"""

from __future__ import annotations

import json
import os
from typing import Any

import urllib3

from chalicelib.channels.http import _Http
from chalicelib.connectors.mango import sign
from chalicelib.platform.outbound import OutboundRefused, check_public_https
from chalicelib.ports import DeliveryError

DEFAULT_URL = "https://app.mango-office.ru/vpbx"
ACCEPTED = 1000


class MangoApi(_Http):
    """The clinic's VPBX, called with the clinic's own key and salt (MANGO_API_URL: the root, for the fakes)."""

    def __init__(self, base_url: str | None = None, pool: Any = None) -> None:
        super().__init__(pool)
        self._base = (base_url or os.environ.get("MANGO_API_URL") or DEFAULT_URL).rstrip("/")

    def _post(self, api_key: str, api_salt: str, method: str, command: dict[str, Any]) -> Any:
        url = f"{self._base}/{method}"
        try:
            check_public_https(url, resolve=True)
        except OutboundRefused as exc:
            raise DeliveryError(f"refused URL: {exc}") from None
        payload = json.dumps(command, ensure_ascii=False, separators=(",", ":"))
        fields = {"vpbx_api_key": api_key, "sign": sign(api_key, payload, api_salt), "json": payload}
        try:
            return self._pool.request("POST", url, fields=fields, encode_multipart=False, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryError(type(exc).__name__) from exc

    def callback(self, api_key: str, api_salt: str, command_id: str, extension: str, number: str,
                 line_number: str | None) -> None:
        """Ring the employee's extension, then dial the number from the clinic's line."""
        command: dict[str, Any] = {"command_id": command_id, "from": {"extension": extension},
                                   "to_number": number.lstrip("+")}
        if line_number:
            command["line_number"] = line_number.lstrip("+")
        answer = self._post(api_key, api_salt, "commands/callback", command)
        code = _result(answer)
        if code != ACCEPTED:
            raise DeliveryError(f"Mango refused the call (result {code})")

    def recording_link(self, api_key: str, api_salt: str, recording_id: str) -> str:
        answer = self._post(api_key, api_salt, "queries/recording/post", {"recording_id": recording_id,
                                                                          "action": "play"})
        location = answer.headers.get("Location") if answer.status in (301, 302, 303, 307) else None
        if not location:
            raise DeliveryError(f"Mango gave no recording link (HTTP {answer.status}, result {_result(answer)})")
        return str(location)


def _result(answer: Any) -> int:
    if answer.status >= 400:
        raise DeliveryError(f"HTTP {answer.status}")
    try:
        return int(json.loads(answer.data or b"{}").get("result", 0))
    except (ValueError, AttributeError, TypeError):
        return 0
