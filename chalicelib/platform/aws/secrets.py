"""The deployment's secrets (Secrets Manager): the webhook master key, operator
token hashes and channel provider credentials. Per-clinic webhook secrets are
derived from the master key, so no clinic secret is ever stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeploymentSecrets:
    webhook_key: bytes
    operator_token_hashes: frozenset[str] = frozenset()
    channels: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DeploymentSecrets:
        return cls(
            webhook_key=base64.b64decode(doc["webhook_key"]),
            operator_token_hashes=frozenset(doc.get("operator_token_sha256", [])),
            channels=dict(doc.get("channels", {})),
        )

    def webhook_secret(self, clinic_id: str, version: int) -> str:
        """The clinic's Standard Webhooks secret (`whsec_...`), derived, never stored."""
        raw = hmac.new(self.webhook_key, f"{clinic_id}:{version}".encode(), hashlib.sha256).digest()
        return "whsec_" + base64.b64encode(raw).decode()


def load_secrets(secret_id: str, max_age: int = 300) -> DeploymentSecrets:
    """Read (and cache for `max_age` seconds) the deployment secret."""
    from aws_lambda_powertools.utilities import parameters  # ~190 ms cold: first secret read only

    doc = parameters.get_secret(secret_id, transform="json", max_age=max_age)
    return DeploymentSecrets.from_json(doc)  # type: ignore[arg-type]
