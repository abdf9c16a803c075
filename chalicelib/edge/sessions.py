"""Signing in from a browser: one-time login links and sessions; the staff token never travels in a URL.

A login link (`/desk#code=…`, `/console#code=…`) carries a one-time code, valid for
CODE_MINUTES, that the page exchanges once (`POST /v1/sessions`) for a session token; a
typed staff token is exchanged the same way, so the page keeps only the session. A
session ends after IDLE_MINUTES without a request, MAX_HOURS after sign-in, on sign-out,
and at once when its staff token is revoked (its sessions are deleted; they are read
strongly consistent and never cached). Codes and sessions are stored hashed, with a TTL.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from chalicelib.core.runtime import Runtime
from chalicelib.domain.staff_access import LoginCode, StaffSession, StaffToken
from chalicelib.edge.auth import SESSION_PREFIX, Staff, token_hash
from chalicelib.platform.errors import ClinicFlowError, NotFound, Unauthorized

CODE_PREFIX = "lc_"
TOUCH_EVERY = timedelta(seconds=60)  # a session's last request is noted at most this often
Page = Literal["desk", "console"]


def _minutes(name: str, default: float) -> timedelta:
    return timedelta(minutes=float(os.environ.get(name, default)))


def code_lifetime() -> timedelta:
    return _minutes("LOGIN_CODE_MINUTES", 15)


def idle_limit() -> timedelta:
    return _minutes("SESSION_IDLE_MINUTES", 120)


def max_age() -> timedelta:
    return _minutes("SESSION_MAX_MINUTES", 12 * 60)


class LinkRefused(ClinicFlowError):
    """A login link that cannot sign in: `reason` says why in a word the page translates."""

    status, slug, title = 410, "login-link", "This login link cannot be used"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def problem(self) -> dict[str, Any]:
        return {**super().problem(), "reason": self.reason}


@dataclass(frozen=True)
class Session:
    token: str
    staff: Staff
    ends_at: datetime

    def view(self, page: str | None = None) -> dict[str, Any]:
        return {"session_token": self.token, "ends_at": self.ends_at.isoformat(),
                "idle_minutes": int(idle_limit().total_seconds() // 60), "role": self.staff.role,
                "clinic_id": self.staff.clinic_id, "page": page or page_of(self.staff.role)}


def page_of(role: str) -> Page:
    return "console" if role == "manager" else "desk"


# ---- login links -------------------------------------------------------------------------------------------

def issue_link(rt: Runtime, clinic_id: str, token_digest: str, role: str, page: Page | None = None) -> dict[str, str]:
    """A one-time login link for one staff token (given by its hash: the token itself stays out of the URL)."""
    code = f"{CODE_PREFIX}{secrets.token_urlsafe(24)}"
    now = rt.clock()
    until = now + code_lifetime()
    where = page or page_of(role)
    rt.store.add_login_code(LoginCode(token_hash(code), clinic_id=clinic_id, token_digest=token_digest, page=where,
                                      created_at=now.isoformat(), valid_until=until.isoformat(),
                                      forget_at=until + timedelta(days=1)))
    return {"url": f"{rt.settings.public_url}/{where}#code={code}", "code": code, "page": where,
            "expires_at": until.isoformat()}


def link_for_staff(rt: Runtime, clinic_id: str, token_id: str) -> dict[str, str]:
    """A manager's "new login link" for one of the clinic's staff tokens."""
    for item in rt.store.staff_tokens(clinic_id):
        if item.token_id == token_id:
            return issue_link(rt, clinic_id, item.digest, item.role)
    raise NotFound(f"no staff token {token_id}")


def link_for_self(rt: Runtime, staff: Staff) -> dict[str, str]:
    """A link for whoever asks, as the staff token they signed in with (e.g. `make run` printing one)."""
    if not staff.clinic_id or not staff.token_digest:
        raise NotFound("no staff token to link to")
    return issue_link(rt, staff.clinic_id, staff.token_digest, staff.role)


def exchange_code(rt: Runtime, code: str) -> Session:
    """Sign in with a login link's code: once, within its minutes, while its staff token stands."""
    digest = token_hash(code)
    item = rt.store.login_code(digest)
    if item is None:
        raise LinkRefused("unknown", "this login link is not valid; ask your manager for a new one")
    if item.used_at:
        raise LinkRefused("used", "this login link was already used; ask your manager for a new one")
    if rt.clock() > datetime.fromisoformat(item.valid_until):
        raise LinkRefused("expired", "this login link has expired; ask your manager for a new one")
    if not rt.store.use_login_code(digest, rt.clock()):
        raise LinkRefused("used", "this login link was already used; ask your manager for a new one")
    token = rt.store.token(item.token_digest)
    if token is None:
        raise LinkRefused("revoked", "the access this link was for has been revoked")
    return open_session(rt, token)


def exchange_token(rt: Runtime, raw: str) -> Session:
    """Sign in with a staff token typed into the page: the page then holds only the session."""
    token = rt.store.token(token_hash(raw.strip()))
    if token is None:
        raise Unauthorized("unknown or revoked token")
    return open_session(rt, token)


# ---- sessions ----------------------------------------------------------------------------------------------

def open_session(rt: Runtime, token: StaffToken) -> Session:
    raw = f"{SESSION_PREFIX}{secrets.token_urlsafe(32)}"
    now = rt.clock()
    ends = now + max_age()
    digest = token_hash(raw)
    rt.store.add_session(StaffSession(
        digest, clinic_id=token.clinic_id, token_id=token.token_id, token_digest=token.digest, role=token.role,
        admin_id=token.admin_id, name=token.name, created_at=now.isoformat(), last_seen_at=now.isoformat(),
        ends_at=ends.isoformat()))
    staff = Staff(role=token.role, clinic_id=token.clinic_id, token_id=token.token_id,
                  admin_id=token.admin_id, name=token.name, token_digest=token.digest)
    return Session(raw, staff, ends)


def staff_of_session(rt: Runtime, digest: str) -> Staff | None:
    """Who a session is, while it lasts (a request keeps it alive); None once ended or revoked."""
    item = rt.store.session(digest)
    if item is None:
        return None
    now = rt.clock()
    last = datetime.fromisoformat(item.last_seen_at)
    ended = now >= datetime.fromisoformat(item.ends_at) or now - last > idle_limit()
    if ended or not rt.store.token_stands(item.token_digest):  # revoked: ends at once, whatever any index says
        rt.store.end_session(digest)
        return None
    if now - last >= TOUCH_EVERY:
        rt.store.touch_session(digest, now)
    return Staff(role=item.role, clinic_id=item.clinic_id, token_id=item.token_id, admin_id=item.admin_id,
                 name=item.name, token_digest=item.token_digest)


def end(rt: Runtime, digest: str) -> None:
    """Sign out: the session is gone."""
    rt.store.end_session(digest)


def end_all_of(rt: Runtime, clinic_id: str, token_id: str) -> int:
    """The staff token was revoked: every session it opened ends now."""
    found = rt.store.sessions_of(clinic_id, token_id)
    for item in found:
        rt.store.end_session(item.digest)
    return len(found)
