"""A fake Mango Office VPBX API answering as "API Виртуальной АТС MANGO OFFICE" v1.9 documents it.

Source: the VPBX API PDF, https://www.mango-office.ru/upload/api/MangoOffice_VPBX_API_v1.9.pdf
(entry point https://www.mango-office.ru/support/api/), read through its section-by-section copy
in https://github.com/G-Ivan-A/mango_ba_prompts (kb/mango-product-docs/processed/vpbx-api/sections).
Cited again beside each canned answer:
- §2.4: every request is a form POST of `vpbx_api_key`, `sign`, `json`, with
  sign = sha256_hex(vpbx_api_key + json + vpbx_api_salt); the PBX signs what it posts to you the same way.
- §1.4.1: a wrong request gets a 3xxx code; more than one wrong request in 2 minutes gets HTTP 401,
  and the API stays blocked until 2 minutes after the first 3xxx.
- §1.4.2: per-second limits (callback 4/s per product, recording access 10/s, others 10/s); beyond
  them HTTP 429 {"name":"Service Unavailable","message":"Rate limit exceeded.","code":0,"status":429}.
- §3.2.1 and the worked example "Инициирование исходящего вызова" (PDF pp. 329-331): a callback
  (`command_id`, `from.extension`, `to_number`, `line_number`) is answered, its result posted to
  `<your URL>/result/callback`, then `events/call` for the employee's leg (Appeared, Connected,
  Disconnected) and for the new leg to the number (`from.taken_from_call_id` = the first leg), each
  with the request's `command_id`, one `entry_id` for the whole call.
- §3.1.6 `events/summary` (call_direction 2 for outgoing, entry_result 1 talked / 0 not, times in
  Unix seconds) and §3.1.8 `events/record/added` (entry_id, product_id, user_id, timestamp, recording_id).
- §3.5.1 `queries/recording/post` (recording_id, action play|download): 302 Found to a temporary,
  one-time link; GET on it → 200 audio/mp3.
- Result codes and their texts: the list in the PDF ("Список кодов результатов"), as in the
  mango-vpbx client (https://github.com/Bobrovskih/mango-vpbx src/messages.js).
Not in the docs, so chosen here: the synchronous answer to a command is HTTP 200 with
`{"result": <code>}` for success and for 3xxx refusals alike (mango-vpbx reads `result` from a
200 body), and the 401 block has an empty body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.vendor_fakes.base import Clock, FakeVendor, Faults, RecordedRequest, Reply

INVALID_WINDOW = 120.0  # §1.4.1: one wrong request per 2 minutes
LINK_LIFETIME = 600.0  # "временные, срок их жизни ограничен" (§3.5.1); the length is not given
LIMITS = {"/vpbx/commands/callback": 4, "/vpbx/queries/recording/post": 10}  # per second per product (§1.4.2)
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(413)


@dataclass(frozen=True)
class MangoCallScript:
    """How the next callback plays out (a test's setting, not Mango's)."""

    employee_answers: bool = True
    patient_answers: bool = True
    patient_reason: int = 1111  # when the patient does not talk: 1111 no answer in time, 1121 busy
    talk_seconds: int = 42
    ring_seconds: int = 7
    recorded: bool = True
    delay: float = 0.05
    gap: float = 0.0


@dataclass
class Employee:
    extension: str
    user_id: int
    number: str  # the device the PBX rings, e.g. "sip:admin@clinic.mangosip.ru"


@dataclass
class MangoAccount:
    api_key: str
    api_salt: str
    events_url: str | None
    product_id: int
    lines: list[str]
    employees: dict[str, Employee] = field(default_factory=dict)
    script: MangoCallScript = field(default_factory=MangoCallScript)
    next_scripts: list[MangoCallScript] = field(default_factory=list)
    invalid_at: list[float] = field(default_factory=list)
    blocked_until: float = 0.0
    recent: dict[str, list[float]] = field(default_factory=dict)  # path -> request times in the last second
    recordings: dict[str, str] = field(default_factory=dict)  # recording_id -> entry_id


def sign(api_key: str, payload: str, api_salt: str) -> str:
    """§2.4: sign = sha256 hex of vpbx_api_key + json + vpbx_api_salt."""
    return hashlib.sha256((api_key + payload + api_salt).encode()).hexdigest()


def result(code: int) -> Reply:
    return Reply.json(200, {"result": code})


def rate_limited() -> Reply:
    # §1.4.2, word for word.
    return Reply.json(429, {"name": "Service Unavailable", "message": "Rate limit exceeded.", "code": 0,
                            "status": 429})


def blocked() -> Reply:
    return Reply(401)  # §1.4.1: HTTP 401 while blocked; the body is not documented


def unavailable() -> Reply:
    # §1.4.4: "получили ошибку 503 и/или 5008" — pause and back off.
    return Reply.json(503, {"result": 5008})


class FakeMango(FakeVendor):
    """`commands/callback` and `queries/recording/post`, and the events a callback causes."""

    name: ClassVar[str] = "mango"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.accounts: dict[str, MangoAccount] = {}
        self.files: dict[str, tuple[str, float]] = {}  # one-time token -> (recording_id, expires at)

    def add_account(self, api_key: str, api_salt: str, events_url: str | None = None,
                    lines: tuple[str, ...] = ("74951234567",), product_id: int = 400123456) -> MangoAccount:
        account = MangoAccount(api_key, api_salt, events_url, product_id, list(lines))
        with self._lock:
            self.accounts[api_key] = account
        return account

    def add_employee(self, api_key: str, extension: str, number: str | None = None) -> Employee:
        account = self.accounts[api_key]
        employee = Employee(extension, 300049000 + len(account.employees) + 1,
                            number or f"sip:user{extension}@vpbx{account.product_id}.mangosip.ru")
        with self._lock:
            account.employees[extension] = employee
        return employee

    def script_next_call(self, api_key: str, script: MangoCallScript) -> None:
        with self._lock:
            self.accounts[api_key].next_scripts.append(script)

    def faults(self) -> Faults:
        # 5000 "Ошибка сервера" in the result-code list; the HTTP status is the fake's choice.
        return {**super().faults(), "rate_limit": rate_limited, "unavailable": unavailable, "blocked": blocked,
                "server_error": lambda: Reply.json(500, {"result": 5000})}

    # ---- serving ---------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        if request.path.startswith("/files/"):
            return self._file(request.path.removeprefix("/files/"))
        path = request.path.rstrip("/")
        form = request.form
        with self._lock:
            account = self.accounts.get(str(request.params.get("vpbx_api_key", "")))
            if account is None:
                return self._refuse(None, 3105)
            now = self.clock()
            if now < account.blocked_until:
                return blocked()
            if request.method != "POST":
                return self._refuse(account, 3101)
            payload = form.get("json", "")
            if not hmac.compare_digest(form.get("sign", ""), sign(account.api_key, payload, account.api_salt)):
                return self._refuse(account, 3102)
            if not self._within_limit(account, path, now):
                return rate_limited()
            try:
                command = json.loads(payload)
            except ValueError:
                return self._refuse(account, 3104)
            if not isinstance(command, dict):
                return self._refuse(account, 3104)
            if path == "/vpbx/commands/callback":
                return self._callback(account, command, now)
            if path == "/vpbx/queries/recording/post":
                return self._recording(account, command, now)
            return Reply.json(404, {"result": 4001})

    def _refuse(self, account: MangoAccount | None, code: int) -> Reply:
        """A 3xxx answer, counted: the second one within 2 minutes blocks the API for the rest of them."""
        if account is not None:
            now = self.clock()
            account.invalid_at = [t for t in account.invalid_at if now - t < INVALID_WINDOW] + [now]
            if len(account.invalid_at) > 1:
                account.blocked_until = account.invalid_at[0] + INVALID_WINDOW
                return blocked()
        return result(code)

    def _within_limit(self, account: MangoAccount, path: str, now: float) -> bool:
        times = [t for t in account.recent.get(path, []) if now - t < 1.0]
        allowed = len(times) < LIMITS.get(path, 10)
        account.recent[path] = [*times, now] if allowed else times
        return allowed

    def _callback(self, account: MangoAccount, command: dict[str, Any], now: float) -> Reply:
        origin = command.get("from")
        origin = origin if isinstance(origin, dict) else {}
        extension, target = str(origin.get("extension") or ""), str(command.get("to_number") or "")
        if not extension or not target:
            return self._refuse(account, 3103)
        if not (target.isdigit() or target.startswith("sip:")):
            return self._refuse(account, 3200)
        line = str(command.get("line_number") or account.lines[0])
        employee = account.employees.get(extension)
        if employee is None or line not in account.lines:
            return self._refuse(account, 3330)  # "Номер не найден у ВАТС или сотрудника"
        if account.events_url:
            script = account.next_scripts.pop(0) if account.next_scripts else account.script
            self._play(account, script, employee, target, line, str(command.get("command_id") or ""), now)
        return result(1000)  # accepted; the outcome follows in result/callback and the events

    def _play(self, account: MangoAccount, script: MangoCallScript, employee: Employee, target: str, line: str,
              command_id: str, now: float) -> None:
        entry_id = base64.b64encode(secrets.token_bytes(9)).decode()
        first, second = _call_id(account), _call_id(account)
        talked = script.employee_answers and script.patient_answers
        dial_at = now + 3
        talk_at = dial_at + script.ring_seconds
        end = talk_at + script.talk_seconds if talked else dial_at + script.ring_seconds
        reason = 1100 if talked else (script.patient_reason if script.employee_answers else 1111)
        posts: list[tuple[str, dict[str, Any]]] = [("result/callback", {"command_id": command_id, "result": "1000"})]
        # The employee's leg: the PBX rings them first, from the number it will dial.
        leg_one = {"from": {"number": target}, "to": {"extension": employee.extension, "number": employee.number}}
        times = {"Appeared": now, "Connected": now + 2, "Disconnected": dial_at}
        posts += _leg(entry_id, first, leg_one, command_id, times, script.employee_answers,
                      1000 if script.employee_answers else 1111)
        if script.employee_answers:
            # The new leg to the number, taken from the employee's call.
            leg_two = {"from": {"extension": employee.extension, "number": employee.number,
                                "taken_from_call_id": first},
                       "to": {"number": target, "line_number": line}}
            times = {"Appeared": dial_at, "Connected": talk_at, "Disconnected": end}
            posts += _leg(entry_id, second, leg_two, command_id, times, script.patient_answers, reason)
        # §3.1.6: one summary per call; for an outgoing call `from` is the employee, `to` the number dialled.
        posts.append(("events/summary", {
            "entry_id": entry_id, "call_direction": 2,
            "from": {"extension": employee.extension, "number": employee.number}, "to": {"number": target},
            "line_number": line, "create_time": int(now), "forward_time": int(dial_at),
            "talk_time": int(talk_at) if talked else 0, "end_time": int(end), "entry_result": 1 if talked else 0,
            "disconnect_reason": reason}))
        if talked and script.recorded:
            recording_id = base64.b64encode(f"1:{account.product_id}:{secrets.randbelow(10**10)}:1".encode()).decode()
            account.recordings[recording_id] = entry_id
            posts.append(("events/record/added", {"entry_id": entry_id, "product_id": account.product_id,
                                                  "user_id": employee.user_id, "timestamp": int(end + 5),
                                                  "recording_id": recording_id}))
        base = (account.events_url or "").rstrip("/")
        self.post_later(script.delay, [(f"{base}/{name}", signed_form(account.api_key, body, account.api_salt), {})
                                       for name, body in posts], script.gap)

    def _recording(self, account: MangoAccount, command: dict[str, Any], now: float) -> Reply:
        if command.get("action") not in ("play", "download"):
            return self._refuse(account, 3100)
        recording_id = str(command.get("recording_id") or "")
        if recording_id not in account.recordings:
            return self._refuse(account, 3320)  # "Запись разговора не найдена"
        token = secrets.token_urlsafe(24)
        self.files[token] = (recording_id, now + LINK_LIFETIME)
        # §3.5.1: 302 Found, Location: a temporary one-time link to the file.
        return Reply(302, b"", {"Location": f"{self.base_url}/files/{token}"})

    def _file(self, token: str) -> Reply:
        with self._lock:
            link = self.files.pop(token, None)  # one-time: gone after the first access
        if link is None or self.clock() > link[1]:
            return Reply.text(404, "Not Found")
        return Reply(200, MP3, {"Content-Type": "audio/mp3"})  # §3.5.1: "Content-Type: audio/mp3"


def signed_form(api_key: str, body: dict[str, Any], api_salt: str) -> dict[str, str]:
    """What the PBX posts: vpbx_api_key, sign and the compact json it signed (§2.4)."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return {"vpbx_api_key": api_key, "sign": sign(api_key, payload, api_salt), "json": payload}


def _call_id(account: MangoAccount) -> str:
    # Shaped as the ids in Mango's examples, e.g. base64 of "1:10057593:502:62583834".
    return base64.b64encode(f"1:{account.product_id}:{secrets.randbelow(999)}:{secrets.randbelow(10**8)}"
                            .encode()).decode()


def _leg(entry_id: str, call_id: str, parties: dict[str, Any], command_id: str, times: dict[str, float],
         answered: bool, reason: int) -> list[tuple[str, dict[str, Any]]]:
    """events/call of one leg: Appeared, Connected (if answered), Disconnected with its reason."""
    states = ["Appeared", "Connected", "Disconnected"] if answered else ["Appeared", "Disconnected"]
    events = []
    for seq, state in enumerate(states, 1):
        event = _call_event(entry_id, call_id, times[state], seq, state, parties, command_id)
        if state == "Disconnected":
            event["disconnect_reason"] = reason
        events.append(("events/call", event))
    return events


def _call_event(entry_id: str, call_id: str, at: float, seq: int, state: str, parties: dict[str, Any],
                command_id: str) -> dict[str, Any]:
    # §3.1.2 events/call, as in the worked example of a callback.
    return {"entry_id": entry_id, "call_id": call_id, "timestamp": int(at), "seq": seq, "call_state": state,
            "location": "abonent", **parties, "command_id": command_id}
