"""A fake SMS.ru answering as https://sms.ru/api documents it (and as it answered live).

Sources (cited again beside each canned answer):
- Send: https://sms.ru/api/send — `/sms/send?api_id&to&msg&from&test&json=1`, the JSON answer with a
  top-level `status`/`status_code` (auth and format) and one entry per number under `sms` (each
  must be checked), `balance` a number and `sms_id` a string; without `json=1`, lines of text.
- Cost: https://sms.ru/api/cost — per number `cost` (rubles) and `sms` (segments), `total_cost`,
  `total_sms`. Status: https://sms.ru/api/status — per id `status_code`, `cost`, `status_text`.
- Balance: `/my/balance` → `{"status":"OK","status_code":100,"balance":…}`; `/auth/check`.
- Live answers recorded against sms.ru on 2026-06-25 in the public VCR cassettes of
  https://github.com/svyatov/smsru_ruby (test/cassettes/*.yml): code 221 per number (an account
  without an approved alphanumeric sender; the entry still carries an `sms_id`), `cost` answering
  221 too, status -1 "Сообщение не найдено" for an unknown id.
- Status and error codes with their Russian texts: the code tables copied from sms.ru into public
  clients (e.g. zelenin/sms_ru, collected in /work/wt/research/vendors.md §3.3).
- Delivery callback: https://sms.ru/?panel=api&subpanel=cb — POST form `data[0]…data[N]`, each
  "sms_status\\n<sms_id>\\n<code>\\n<unix time>", plus `hash` = sha256(api_id + data[0] + data[1] + …);
  the receiver must answer "100" (svyatov/smsru_ruby lib/sms_ru/webhook.rb verifies it the same way).

Per `api_id` the fake keeps the balance, the approved sender names, the price of one SMS segment,
numbers it refuses (with which per-number code) and every message with its status and cost.
Where the API does not say whether a code comes per number or for the whole request, the fake
follows the live 221 (per number) for sender and number problems and the clients' handling
(top level) for account problems (200, 201) and request problems (203, 205, 213).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.vendor_fakes.base import Clock, Delivery, FakeVendor, Faults, RecordedRequest, Reply

# Texts of the codes, from sms.ru's table (see the module docstring).
TEXTS = {
    -1: "Сообщение не найдено",
    100: "Запрос выполнен или сообщение находится в нашей очереди",
    101: "Сообщение передается оператору",
    102: "Сообщение отправлено (в пути)",
    103: "Сообщение доставлено",
    104: "Не может быть доставлено: время жизни истекло",
    105: "Не может быть доставлено: удалено оператором",
    106: "Не может быть доставлено: сбой в телефоне",
    107: "Не может быть доставлено: неизвестная причина",
    108: "Не может быть доставлено: отклонено",
    110: "Сообщение прочитано",
    150: "Не может быть доставлено: не найден маршрут на данный номер",
    200: "Неправильный api_id",
    201: "Не хватает средств на лицевом счету",
    202: "Неправильно указан номер телефона получателя, либо на него нет маршрута",
    203: "Нет текста сообщения",
    204: "Имя отправителя не согласовано с администрацией",
    205: "Сообщение слишком длинное (превышает 8 СМС)",
    206: "Будет превышен или уже превышен дневной лимит на отправку сообщений",
    207: "На этот номер нет маршрута для доставки сообщений",
    209: "Вы добавили этот номер (или один из номеров) в стоп-лист",
    211: "Метод не найден",
    213: "Указано более 100 номеров в списке получателей",
    220: "Сервис временно недоступен, попробуйте чуть позже",
    221: "Для работы с нашим сервисом, необходимо создать буквенного отправителя, соответствующего вашему "
         "сайту, названию юр. лица или товарному знаку - https://sms.ru/?panel=senders",
    230: "Превышен общий лимит количества сообщений на этот номер в день",
    231: "Превышен лимит одинаковых сообщений на этот номер в минуту",
    232: "Превышен лимит одинаковых сообщений на этот номер в день",
    500: "Ошибка на сервере. Повторите запрос.",
}
MAX_SEGMENTS, MAX_RECIPIENTS = 8, 100
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
            "¿abcdefghijklmnopqrstuvwxyzäöñüà")


@dataclass
class Sms:
    """One message to one number, as SMS.ru keeps it."""

    sms_id: str
    api_id: str
    to: str
    text: str
    sender: str | None
    segments: int
    cost: float
    test: bool
    status_code: int = 100


@dataclass
class SmsRuAccount:
    api_id: str
    balance: float
    price: float  # rubles per segment
    senders: set[str] = field(default_factory=set)  # approved alphanumeric names
    refused: dict[str, int] = field(default_factory=dict)  # number -> per-number error code


def top_error(code: int) -> Reply:
    # Whole-request failure: HTTP 200, status ERROR (e.g. the gem's fixture for 200 "Неправильный api_id").
    return Reply.json(200, {"status": "ERROR", "status_code": code, "status_text": TEXTS[code]})


def unavailable() -> Reply:
    # 220: "Сервис временно недоступен, попробуйте чуть позже" — retry later.
    return top_error(220)


def server_error() -> Reply:
    # An HTTP 5xx from the gateway itself; SMS.ru's own code 500 means "retry" (code table).
    return Reply.text(500, "500 Internal Server Error")


def segments(text: str) -> int:
    """SMS segments: 160/153 characters in GSM-7, 70/67 in UCS-2 (Cyrillic)."""
    single, part = (160, 153) if set(text) <= _GSM7 else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


class FakeSmsRu(FakeVendor):
    """`/sms/send`, `/sms/cost`, `/sms/status`, `/my/balance`, `/auth/check` for any number of accounts."""

    name: ClassVar[str] = "smsru"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.accounts: dict[str, SmsRuAccount] = {}
        self.messages: dict[str, Sms] = {}
        self._counter = 0

    def add_account(self, api_id: str, balance: float = 500.0, price: float = 4.9,
                    senders: tuple[str, ...] | list[str] = ()) -> SmsRuAccount:
        account = SmsRuAccount(api_id, balance, price, set(senders))
        with self._lock:
            self.accounts[api_id] = account
        return account

    def refuse(self, api_id: str, number: str, code: int) -> None:
        """Answer this number with a per-number error (202, 207, 209, 230, 231, 232)."""
        with self._lock:
            self.accounts[api_id].refused[_digits(number)] = code

    def faults(self) -> Faults:
        return {**super().faults(), "unavailable": unavailable, "server_error": server_error,
                "no_funds": lambda: top_error(201), "bad_api_id": lambda: top_error(200)}

    # ---- serving ---------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        params = request.params
        as_json = str(params.get("json", "")) == "1"
        with self._lock:
            account = self.accounts.get(str(params.get("api_id", "")))
            path = request.path.rstrip("/")
            if path not in ("/sms/send", "/sms/cost", "/sms/status", "/my/balance", "/auth/check"):
                return top_error(211) if as_json else Reply.text(200, "211")
            if account is None:
                return top_error(200) if as_json else Reply.text(200, "200")
            if path == "/sms/send":
                reply = self._send(account, params)
                return reply if as_json else _as_lines(reply)
            if path == "/sms/cost":
                return self._cost(account, params)
            if path == "/sms/status":
                return self._status(account, params)
            if path == "/my/balance":  # as in the live cassette balance.yml
                return Reply.json(200, {"status": "OK", "status_code": 100, "balance": round(account.balance, 2)})
            return Reply.json(200, {"status": "OK", "status_code": 100})  # /auth/check, cassette authed.yml

    def _recipients(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        """(number, text) pairs: `to` (comma list) with `msg`, or per-number `to[7925…]=text` / `multi[…]`."""
        text = str(params.get("msg") or params.get("text") or "")
        pairs = [(n.strip(), text) for n in str(params.get("to") or "").split(",") if n.strip()]
        for key, value in params.items():
            match = re.fullmatch(r"(?:to|multi)\[([^\]]+)\]", key)
            if match:
                pairs.append((match.group(1), str(value)))
        return pairs

    def _check(self, account: SmsRuAccount, params: dict[str, Any]) -> tuple[Reply | None, list[tuple[str, str]]]:
        recipients = self._recipients(params)
        if len(recipients) > MAX_RECIPIENTS:
            return top_error(213), []
        if not recipients or any(not text.strip() for _, text in recipients):
            return top_error(203 if recipients else 202), []
        if any(segments(text) > MAX_SEGMENTS for _, text in recipients):
            return top_error(205), []
        return None, recipients

    def _number_error(self, account: SmsRuAccount, number: str, sender: str) -> int | None:
        digits = _digits(number)
        if not 10 <= len(digits) <= 15:
            return 202
        if digits in account.refused:
            return account.refused[digits]
        if not account.senders:
            return 221  # live: an account without an approved alphanumeric sender
        if sender and sender not in account.senders:
            return 204
        return None

    def _send(self, account: SmsRuAccount, params: dict[str, Any]) -> Reply:
        refusal, recipients = self._check(account, params)
        if refusal is not None:
            return refusal
        sender = str(params.get("from") or "")
        test = str(params.get("test", "")) == "1"
        plan = [(n, t, self._number_error(account, n, sender)) for n, t in recipients]
        total = sum(segments(t) * account.price for _, t, error in plan if error is None)
        if not test and total > account.balance + 1e-9:
            return top_error(201)
        answer: dict[str, Any] = {}
        for number, text, error in plan:
            sms = self._new_sms(account, number, text, sender or min(account.senders, default=None), test)
            if error is None:
                answer[_digits(number)] = {"status": "OK", "status_code": 100, "sms_id": sms.sms_id}
                if not test:
                    account.balance -= sms.cost
            else:
                sms.status_code = error
                entry: dict[str, Any] = {"status": "ERROR", "status_code": error, "status_text": TEXTS[error]}
                if error == 221:
                    entry["sms_id"] = sms.sms_id  # live: the 221 entry still carries an id
                answer[_digits(number)] = entry
        # https://sms.ru/api/send: top-level OK, one entry per number, the balance after sending.
        return Reply.json(200, {"status": "OK", "status_code": 100, "sms": answer,
                                "balance": round(account.balance, 2)})

    def _new_sms(self, account: SmsRuAccount, number: str, text: str, sender: str | None, test: bool) -> Sms:
        self._counter += 1
        prefix = time.strftime("%Y%V", time.gmtime(self.clock()))[2:]
        sms_id = f"{prefix}-{1000000 + self._counter}"
        count = segments(text)
        sms = Sms(sms_id, account.api_id, _digits(number), text, sender, count, round(count * account.price, 2), test)
        self.messages[sms_id] = sms
        return sms

    def _cost(self, account: SmsRuAccount, params: dict[str, Any]) -> Reply:
        refusal, recipients = self._check(account, params)
        if refusal is not None:
            return refusal
        sender = str(params.get("from") or "")
        answer: dict[str, Any] = {}
        total_cost, total_sms = 0.0, 0
        for number, text in recipients:
            error = self._number_error(account, number, sender)
            if error is not None:
                answer[_digits(number)] = {"status": "ERROR", "status_code": error, "status_text": TEXTS[error]}
                continue
            count = segments(text)
            cost = round(count * account.price, 2)
            answer[_digits(number)] = {"status": "OK", "status_code": 100, "cost": cost, "sms": count}
            total_cost, total_sms = total_cost + cost, total_sms + count
        # /sms/cost: per-number cost and segment count, then the totals.
        return Reply.json(200, {"status": "OK", "status_code": 100, "sms": answer,
                                "total_cost": round(total_cost, 2), "total_sms": total_sms})

    def _status(self, account: SmsRuAccount, params: dict[str, Any]) -> Reply:
        answer: dict[str, Any] = {}
        for sms_id in (i.strip() for i in str(params.get("sms_id") or "").split(",") if i.strip()):
            sms = self.messages.get(sms_id)
            if sms is None or sms.api_id != account.api_id:
                answer[sms_id] = {"status": "ERROR", "status_code": -1, "status_text": TEXTS[-1]}  # status.yml
            else:  # https://sms.ru/api/status: code, cost and text per id
                answer[sms_id] = {"status": "OK", "status_code": sms.status_code, "cost": sms.cost,
                                  "status_text": TEXTS.get(sms.status_code, "")}
        return Reply.json(200, {"status": "OK", "status_code": 100, "sms": answer})

    # ---- the delivery callback SMS.ru posts ------------------------------------------------

    def set_status(self, sms_id: str, code: int, at: float | None = None) -> str:
        """Move a message to a status (103 delivered, 104 expired, …); returns its callback record."""
        with self._lock:
            self.messages[sms_id].status_code = code
        return status_record(sms_id, code, int(self.clock() if at is None else at))

    def post_callback(self, url: str, api_id: str, records: list[str]) -> Delivery:
        """POST the signed callback to `url` now, as SMS.ru does; the receiver should answer "100"."""
        return self._deliver(url, delivery_callback(api_id, records), {})


def status_record(sms_id: str, code: int, unix_time: int) -> str:
    return f"sms_status\n{sms_id}\n{code}\n{unix_time}"


def delivery_callback(api_id: str, records: list[str]) -> dict[str, str]:
    """Form fields of a delivery callback: data[0..N] and hash = sha256(api_id + data[0] + data[1] + …)."""
    fields = {f"data[{i}]": record for i, record in enumerate(records)}
    fields["hash"] = hashlib.sha256((api_id + "".join(records)).encode()).hexdigest()
    return fields


def _as_lines(reply: Reply) -> Reply:
    """The answer without json=1: the request's code, then per number its sms_id or error code, then the balance."""
    payload = reply.parsed()
    lines = [str(payload["status_code"])]
    if payload["status"] == "OK":
        lines += [e.get("sms_id") if e["status"] == "OK" else str(e["status_code"]) for e in payload["sms"].values()]
        lines.append(f"balance={payload['balance']}")
    return Reply.text(200, "\n".join(lines))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)
