"""Staff authentication: bearer tokens, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache

from chalicelib.edge import limits
from chalicelib.platform.errors import Forbidden, NotFound, Unauthorized

RANK = {"admin": 1, "manager": 2}
SESSION_PREFIX = "cf_ses_"  # a browser session (sessions.py); other tokens are staff or operator tokens
_CACHE_SECONDS = 60.0
_CACHE_SIZE = 4096  # tokens remembered by a warm function; garbage tokens cannot grow it past this


@dataclass(frozen=True)
class Staff:
    """Who is calling: an operator (no clinic), or a clinic's manager or administrator."""

    role: str
    clinic_id: str | None = None
    token_id: str = ""
    admin_id: str | None = None
    name: str | None = None
    token_digest: str = ""  # the staff token's hash (a session's too: the token it was opened with)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(role: str) -> str:
    return f"cf_{role[:3]}_{secrets.token_urlsafe(24)}"


class Authenticator:
    """Resolves bearer tokens and checks clinic and role.

    Parameters
    ----------
    lookup:
        Returns the Staff a token hash belongs to, or None.
    operator_hashes:
        Returns the hashes of operator tokens (from the deployment secret).
    sessions:
        Returns the Staff a live session's hash belongs to, or None (never cached: a revoked session ends at once).
    """

    def __init__(self, lookup: Callable[[str], Staff | None], operator_hashes: Callable[[], frozenset[str]],
                 sessions: Callable[[str], Staff | None] = lambda digest: None) -> None:
        self._lookup = lookup
        self._operators = operator_hashes
        self._sessions = sessions
        self._cache: TTLCache[str, Staff | None] = TTLCache(maxsize=_CACHE_SIZE, ttl=_CACHE_SECONDS)
        self._lock = threading.Lock()

    def staff(self, authorization: str | None) -> Staff:
        """Whoever the token belongs to; a verified request, counted against its clinic's limit."""
        staff = self._resolve(authorization)
        if staff.clinic_id:
            limits.admit(staff.clinic_id, "staff")
        else:
            limits.verified()
        return staff

    def _resolve(self, authorization: str | None) -> Staff:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send Authorization: Bearer <token>")
        digest = token_hash(token.strip())
        if token.strip().startswith(SESSION_PREFIX):
            found = self._sessions(digest)
            if found is None:
                raise Unauthorized("the session has ended; sign in again")
            return found
        if digest in self._operators():
            return Staff(role="operator", token_id="operator")  # noqa: S106 - a label, not a secret
        with self._lock:
            known = digest in self._cache
            staff = self._cache.get(digest)
        if not known:
            staff = self._lookup(digest)
            with self._lock:
                self._cache[digest] = staff
        if staff is None:
            raise Unauthorized("unknown or revoked token")
        return staff

    def clinic_staff(self, authorization: str | None, clinic_id: str, role: str) -> Staff:
        """Staff of `clinic_id` with at least `role` (counted against the clinic's limit); another clinic's token
        sees 404."""
        staff = self._resolve(authorization)
        if staff.clinic_id != clinic_id:
            raise NotFound(f"no clinic {clinic_id}")
        if RANK.get(staff.role, 0) < RANK[role]:
            raise Forbidden(f"needs the {role} role")
        limits.admit(clinic_id, "staff")
        return staff

    def operator(self, authorization: str | None) -> Staff:
        staff = self._resolve(authorization)
        if staff.role != "operator":
            raise Forbidden("needs an operator token")
        limits.verified()
        return staff

    def forget(self, digest: str) -> None:
        with self._lock:
            self._cache.pop(digest, None)

    @property
    def cached(self) -> int:
        """How many tokens the cache holds now (bounded by its size)."""
        return len(self._cache)
