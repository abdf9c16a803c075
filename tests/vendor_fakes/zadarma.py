"""A fake Zadarma API and PBX answering as https://zadarma.com/en/support/api/ documents it.

Sources (cited again beside each canned answer):
- Authorization: header `Authorization: <key>:<signature>`, the signature being
  base64(hex HMAC-SHA1(secret, method_path + params + md5(params))) over the parameters sorted by
  name and built with PHP's `http_build_query(..., PHP_QUERY_RFC1738)` (space → "+", "~" →
  "%7E"); the official client adds `format=json` before signing:
  https://zadarma.com/en/support/api/#intro_authorization and
  https://github.com/zadarma/user-api-v1/blob/master/lib/Client.php (`_getAuthHeader`).
- Limits: 100 requests a minute; every answer carries X-Zadarma-Method, X-RateLimit-Limit,
  X-RateLimit-Remaining, X-RateLimit-Reset; beyond the limit HTTP 429 "You exceeded the rate limit";
  every answer has `status` success|error, errors a `message`: #intro_restrictions.
- `GET /v1/info/balance/` → {"status","balance","currency"}: #api_info_balance.
- `GET /v1/request/callback/` (from, to, sip, predicted) → {"status","from","to","time"}: #api_callback.
- `GET /v1/pbx/record/request/` (call_id | pbx_call_id, lifetime 180…5184000 s, default 1800) →
  `link` (by call_id) or `links` (by pbx_call_id) and `lifetime_till`: #api_pbx_record_request.
- `GET /v1/statistics/pbx/` (start, end, version, call_type) → `stats[]` rows (`call_id`, `sip`, `callstart`,
  `clid`, `destination`, `disposition`, `seconds`, `is_recorded`, `pbx_call_id`): each leg the fake played is
  recorded there, as the PBX's own call records: #api_statistics_pbx.
- PBX notifications (form POST, header `Signature` = base64(hex HMAC-SHA1(secret, signed string))):
  NOTIFY_OUT_START signs internal.destination.call_start; NOTIFY_OUT_END the same and carries
  caller_id, duration, disposition, status_code (Q.931), is_recorded, call_id_with_rec;
  NOTIFY_RECORD signs pbx_call_id.call_id_with_rec: #api_webhooks and
  https://github.com/zadarma/user-api-v1/tree/master/lib/Webhook (NotifyOutStart.php, NotifyOutEnd.php,
  NotifyRecord.php). The URL check is `GET ?zd_echo=<value>`, answered with the value.

Not documented, so chosen here and said so: which notifications a callback request produces.
The fake plays it as two outgoing PBX legs, each with its own `pbx_call_id`: the administrator's
extension is rung first (`destination` = the request's `from`), and only if it answers is the
patient dialled (`destination` = `to`); both legs carry `internal` = the extension placing the
call (`sip`, else `from`). Turn the extension leg off with `CallScript(extension_leg=False)`.
Q.931 cause values are ITU-T Q.850's (16 normal clearing, 17 busy, 19 no answer).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote_plus
from zoneinfo import ZoneInfo

from tests.vendor_fakes.base import Clock, Delivery, FakeVendor, Faults, RecordedRequest, Reply

RATE_LIMIT_PER_MINUTE = 100
Q931 = {"answered": "16", "busy": "17", "no answer": "19", "cancel": "16", "failed": "41",
        "unallocated number": "1"}
# A short silent MPEG-1 Layer III body: an ID3v2 header and one frame header, padded.
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(413)
SIGNED = {"NOTIFY_OUT_START": ("internal", "destination", "call_start"),
          "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
          "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec")}


@dataclass(frozen=True)
class CallScript:
    """How the next click-to-call plays out (a test's setting, not Zadarma's)."""

    extension_answers: bool = True
    patient_disposition: str = "answered"  # answered | busy | no answer | cancel | failed | …
    talk_seconds: int = 42
    ring_seconds: int = 7
    recorded: bool = True
    extension_leg: bool = True
    delay: float = 0.05  # seconds before the first notification is posted
    gap: float = 0.0  # seconds between notifications


@dataclass
class Recording:
    call_id_with_rec: str
    pbx_call_id: str
    extension: str
    started: float


@dataclass
class ZadarmaAccount:
    key: str
    secret: str
    notify_url: str | None = None
    balance: float = 10.34
    currency: str = "USD"
    timezone: str = "Europe/Moscow"
    caller_ids: dict[str, str] = field(default_factory=dict)  # extension -> CallerID of its calls
    script: CallScript = field(default_factory=CallScript)
    next_scripts: list[CallScript] = field(default_factory=list)
    window: list[float] = field(default_factory=list)  # request times in the current minute

    def local(self, at: float) -> str:
        return datetime.fromtimestamp(at, ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S")


def php_query(pairs: list[tuple[str, str]]) -> str:
    """PHP's http_build_query(..., PHP_QUERY_RFC1738): "+" for spaces, "%7E" for "~"."""
    def enc(text: str) -> str:
        return quote_plus(text, safe="").replace("~", "%7E")
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)


def api_signature(method_path: str, pairs: list[tuple[str, str]], secret: str) -> str:
    """The Authorization signature as Zadarma computes it (Client.php `_getAuthHeader`)."""
    query = php_query(sorted(pairs, key=lambda kv: kv[0].encode()))
    data = method_path + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324 - Zadarma's algorithm
    return base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest().encode()).decode()


def notification_signature(fields: dict[str, str], secret: str) -> str:
    """`Signature` of a PBX notification: base64 of the hex HMAC-SHA1 of the event's signed string."""
    data = "".join(fields.get(name, "") for name in SIGNED[fields["event"]])
    return base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest().encode()).decode()


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    # Every error: {"status":"error","message":…} with a matching HTTP status (#intro_restrictions).
    return Reply.json(status, {"status": "error", "message": message}, headers)


def rate_limited() -> Reply:
    # Beyond 100 requests a minute: HTTP 429 "You exceeded the rate limit" (#intro_restrictions).
    return error(429, "You exceeded the rate limit")


def not_authorized() -> Reply:
    # A wrong key or signature: 401 "Not authorized" (a third-party client's fixture; text not in the docs).
    return error(401, "Not authorized")


class FakeZadarma(FakeVendor):
    """Zadarma API v1 (balance, callback, recordings) and the PBX notifications a callback causes."""

    name: ClassVar[str] = "zadarma"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.accounts: dict[str, ZadarmaAccount] = {}
        self.recordings: dict[str, Recording] = {}
        self.links: dict[str, tuple[str, float]] = {}  # token -> (call_id_with_rec, expires at)
        self.stats: list[dict[str, Any]] = []  # the legs played, as /v1/statistics/pbx/ lists them ("_key": account)

    def add_account(self, key: str, secret: str, notify_url: str | None = None, **settings: Any) -> ZadarmaAccount:
        account = ZadarmaAccount(key, secret, notify_url, **settings)
        with self._lock:
            self.accounts[key] = account
        return account

    def script_next_call(self, key: str, script: CallScript) -> None:
        """Play the next callback of this account this way (then back to the account's default)."""
        with self._lock:
            self.accounts[key].next_scripts.append(script)

    def faults(self) -> Faults:
        # A 5xx in the documented error shape (the text is the fake's own).
        return {**super().faults(), "rate_limit": rate_limited, "server_error": lambda: error(500, "Server error"),
                "not_authorized": not_authorized}

    # ---- serving ---------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        path = request.path if request.path.endswith("/") else request.path + "/"
        if path.startswith("/v1/pbx/record/download/"):
            return self._download(path)
        key, _, sign = request.header("Authorization").partition(":")
        pairs = list(parse_qsl(request.raw_query, keep_blank_values=True)) if request.method == "GET" \
            else list(request.form_pairs)
        with self._lock:
            account = self.accounts.get(key.strip())
            # Signed over the method's path exactly as the client requested it.
            if account is None or not hmac.compare_digest(sign.strip(),
                                                          api_signature(request.path, pairs, account.secret)):
                return not_authorized()
            allowed, limits = self._count(account, path)
            if not allowed:
                blocked = rate_limited()
                return Reply(blocked.status, blocked.body, {**blocked.headers, **limits})
            params = dict(pairs)
            if path == "/v1/info/balance/":  # #api_info_balance
                reply = Reply.json(200, {"status": "success", "balance": account.balance,
                                         "currency": account.currency})
            elif path == "/v1/request/callback/":
                reply = self._callback(account, params)
            elif path == "/v1/pbx/record/request/":
                reply = self._record_request(account, params)
            elif path == "/v1/statistics/pbx/":
                reply = self._statistics(account, params)
            else:
                reply = error(404, "Method not found")
            return Reply(reply.status, reply.body, {**reply.headers, **limits})

    def _count(self, account: ZadarmaAccount, path: str) -> tuple[bool, dict[str, str]]:
        now = self.clock()
        account.window = [t for t in account.window if now - t < 60]
        allowed = len(account.window) < RATE_LIMIT_PER_MINUTE
        if allowed:
            account.window.append(now)
        return allowed, self._limit_headers(account, path)

    def _limit_headers(self, account: ZadarmaAccount, path: str) -> dict[str, str]:
        reset = int((account.window[0] if account.window else self.clock()) + 60)
        return {"X-Zadarma-Method": path, "X-RateLimit-Limit": str(RATE_LIMIT_PER_MINUTE),
                "X-RateLimit-Remaining": str(max(0, RATE_LIMIT_PER_MINUTE - len(account.window))),
                "X-RateLimit-Reset": str(reset)}

    def _callback(self, account: ZadarmaAccount, params: dict[str, str]) -> Reply:
        origin, target = params.get("from", ""), params.get("to", "")
        if not origin or not re.fullmatch(r"\d{3,15}", target):
            return error(400, "Check phone's number")  # the docs' own error example
        now = self.clock()
        if account.notify_url:
            script = account.next_scripts.pop(0) if account.next_scripts else account.script
            self._play(account, script, origin, target, params.get("sip") or origin, now)
        # #api_callback: {"status":"success","from":…,"to":…,"time":…}, numbers as numbers.
        return Reply.json(200, {"status": "success", "from": int(origin) if origin.isdigit() else origin,
                                "to": int(target), "time": int(now)})

    def _play(self, account: ZadarmaAccount, script: CallScript, origin: str, target: str, extension: str,
              now: float) -> None:
        caller_id = account.caller_ids.get(extension, "")
        first = {"call_start": account.local(now), "pbx_call_id": _pbx_call_id(), "internal": extension}
        talked = script.extension_answers and script.patient_disposition == "answered"
        notes: list[dict[str, str]] = []
        if script.extension_leg:
            notes.append({"event": "NOTIFY_OUT_START", **first, "destination": origin})
        record: dict[str, str] | None = None
        if script.extension_answers:
            second_at = now + script.ring_seconds
            second = {"call_start": account.local(second_at), "pbx_call_id": _pbx_call_id(), "internal": extension}
            recording = ""
            if talked and script.recorded:
                recording = f"{int(second_at)}.{secrets.randbelow(10**6):06d}"
                self.recordings[recording] = Recording(recording, second["pbx_call_id"], extension, second_at)
                record = {"event": "NOTIFY_RECORD", "call_id_with_rec": recording,
                          "pbx_call_id": second["pbx_call_id"]}
            notes.append({"event": "NOTIFY_OUT_START", **second, "destination": target})
            notes.append(_out_end(second, target, caller_id, script.talk_seconds if talked else 0,
                                  script.patient_disposition, recording))
        if script.extension_leg:
            answered = "answered" if script.extension_answers else "no answer"
            length = script.ring_seconds + script.talk_seconds if talked else 0
            notes.append(_out_end(first, origin, caller_id, length, answered, ""))
        if record is not None:
            notes.append(record)
        for note in notes:
            if note["event"] == "NOTIFY_OUT_END":  # the PBX's call records hold every leg it placed
                self.stats.append({"_key": account.key, "call_id": note["call_id_with_rec"] or note["pbx_call_id"],
                                   "sip": note["internal"], "callstart": note["call_start"], "clid": caller_id,
                                   "destination": note["destination"], "disposition": note["disposition"],
                                   "seconds": int(note["duration"]), "is_recorded": note["is_recorded"] == "1",
                                   "pbx_call_id": note["pbx_call_id"]})
        url = account.notify_url or ""
        self.post_later(script.delay, [(url, n, {"Signature": notification_signature(n, account.secret)})
                                       for n in notes], script.gap)

    def _statistics(self, account: ZadarmaAccount, params: dict[str, str]) -> Reply:
        start, end = params.get("start", ""), params.get("end", "")
        rows = [{k: v for k, v in row.items() if not k.startswith("_")} for row in self.stats
                if row["_key"] == account.key and start <= row["callstart"] <= end]
        # #api_statistics_pbx: {"status","start","end","version","stats":[…]}
        return Reply.json(200, {"status": "success", "start": start, "end": end, "version": 2, "stats": rows})

    def _record_request(self, account: ZadarmaAccount, params: dict[str, str]) -> Reply:
        lifetime = int(params.get("lifetime") or 1800)
        if not 180 <= lifetime <= 5_184_000:
            return error(400, "Wrong parameter lifetime")  # the range is documented; the text is the fake's
        if params.get("call_id"):
            found = [r for r in self.recordings.values() if r.call_id_with_rec == params["call_id"]]
        else:
            found = [r for r in self.recordings.values() if r.pbx_call_id == params.get("pbx_call_id")]
        if not found:
            return error(404, "Record not found")  # status and text not documented
        expires = self.clock() + lifetime
        links = [self._link(account, r, expires) for r in found]
        till = account.local(expires)
        # #api_pbx_record_request: `link` when asked by call_id, `links` by pbx_call_id; `lifetime_till`.
        if params.get("call_id"):
            return Reply.json(200, {"status": "success", "link": links[0], "lifetime_till": till})
        return Reply.json(200, {"status": "success", "links": links, "lifetime_till": till})

    def _link(self, account: ZadarmaAccount, recording: Recording, expires: float) -> str:
        token = secrets.token_urlsafe(16)
        self.links[token] = (recording.call_id_with_rec, expires)
        stamp = account.local(recording.started).replace(" ", "-").replace(":", "")
        # Shaped as the docs' link: /v1/pbx/record/download/<token>/1-<call_id>-<extension>-<date>-<time>.mp3
        return f"{self.base_url}/v1/pbx/record/download/{token}/1-{recording.call_id_with_rec}-" \
               f"{recording.extension}-{stamp}.mp3"

    def _download(self, path: str) -> Reply:
        token = path.split("/")[5] if path.count("/") >= 6 else ""
        with self._lock:
            link = self.links.get(token)
        if link is None or self.clock() > link[1]:
            return error(404, "Link expired or not found")  # not documented
        return Reply(200, MP3, {"Content-Type": "audio/mpeg"})

    # ---- the URL check Zadarma makes -------------------------------------------------------

    def check_url(self, url: str) -> Delivery:
        """`GET url?zd_echo=<random>` as Zadarma does when a notification URL is saved."""
        echo = secrets.token_hex(8)
        status, answer = 0, b""
        try:
            with urllib.request.urlopen(f"{url}{'&' if '?' in url else '?'}zd_echo={echo}",  # noqa: S310
                                        timeout=5) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read()
        return Delivery(url, {"zd_echo": echo}, {}, status, answer)


def _pbx_call_id() -> str:
    return f"out_{secrets.token_hex(16)}"  # shaped as the docs' "out_807ghh1h7f…"


def _out_end(leg: dict[str, str], destination: str, caller_id: str, duration: int, disposition: str,
             recording: str) -> dict[str, str]:
    return {"event": "NOTIFY_OUT_END", "call_start": leg["call_start"], "pbx_call_id": leg["pbx_call_id"],
            "caller_id": caller_id, "destination": destination, "internal": leg["internal"],
            "duration": str(duration), "disposition": disposition, "status_code": Q931.get(disposition, "16"),
            "is_recorded": "1" if recording else "0", "call_id_with_rec": recording}
