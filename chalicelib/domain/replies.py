"""What a patient's reply means, as people write in messengers (Russian and English).

Meanings: `stop` (do not contact me), `start` (write again), `confirm` (I will come),
`decline` (I cannot come, move or cancel it), `rating` (1–5, with what came with it)
and `other` — a question, a doubt, or words that say two things at once. `other` is
never guessed: the product hands it to a person (a conversation task on the desk).

How a reply is read (docs/replies.md has the figures on the labelled corpus):
1. Normalised: lower case, ё→е, Latin look-alikes inside Cyrillic words (`дa`) fixed,
   letters repeated for emphasis (`дааа`, `нееет`) collapsed, emoji turned into words.
2. Words are compared by their Snowball stem (`буду`/`будем`, `приду`/`придём`), word
   families by their root (`отпис…`, `перенес…`), and long words up to one or two typos
   away (`подтвержаю`, `потверждаю`).
3. The stronger meaning wins: stop over everything ("Нет, отпишите меня"), then a rating
   that opens the reply ("2 - долго ждал"), then a firm decline or confirmation
   ("Да, но не смогу" declines; "Нет-нет, буду" confirms); a doubt ("постараюсь",
   "не знаю") or two firm answers at once make it `other`.
A "не пишите/не звоните" that comes with a preference ("не звоните до обеда", "пишите
лучше в телеграм") is not a stop: it goes to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MEANINGS = ("stop", "start", "confirm", "decline", "rating", "other")

# ---- normalising ---------------------------------------------------------------------------------

_EMOJI = {
    "👍": " эмо_да ", "👌": " эмо_да ", "✅": " эмо_да ", "☑": " эмо_да ", "✔": " эмо_да ", "🆗": " эмо_да ",
    "🙆": " эмо_да ", "🤝": " эмо_да ",
    "👎": " эмо_нет ", "❌": " эмо_нет ", "✖": " эмо_нет ", "🙅": " эмо_нет ", "🚫": " эмо_нет ",
    "🤒": " заболел ", "🤧": " заболел ", "😷": " заболел ", "🤕": " заболел ",
    "🛑": " стоп ", "⛔": " стоп ",
}
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3")
_STARS = re.compile("[⭐★🌟]")
_INVISIBLE = re.compile("[\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_LATIN_LOOKALIKE = str.maketrans("aeopcxykmthb", "аеорсхукмтнв")
_WORD = re.compile(r"[a-zа-я0-9_]+|\+|-")
_REPEATS = re.compile(r"([a-zа-я])\1+")


def _fix_script(word: str) -> str:
    """`дa`, `cтоп`: a Cyrillic word typed with a Latin look-alike letter (or the other way round)."""
    if re.search("[а-я]", word) and re.search("[a-z]", word):
        return word.translate(_LATIN_LOOKALIKE)
    return word


def normalised(text: str) -> str:
    """Lower case, ё→е, keycaps and emoji as words, invisible modifiers dropped."""
    out = _INVISIBLE.sub("", text.lower().replace("ё", "е"))
    out = _KEYCAP.sub(r"\1", out)
    for emoji, word in _EMOJI.items():
        out = out.replace(emoji, word)
    return out


@lru_cache(maxsize=1)
def _stemmers() -> tuple[Any, Any]:
    """Snowball's Russian and English stemmers, loaded when the first reply is read (~35 ms)."""
    import snowballstemmer

    return snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class Word:
    text: str  # normalised, repeats collapsed
    stem: str


@lru_cache(maxsize=16384)
def _word(raw: str) -> Word:
    text = _REPEATS.sub(r"\1", _fix_script(raw))
    russian, english = _stemmers()
    if re.search("[а-я]", text):
        return Word(text, russian.stemWord(text))
    if re.search("[a-z]", text):
        return Word(text, english.stemWord(text))
    return Word(text, text)


def words(text: str) -> list[Word]:
    return [_word(w) for w in _WORD.findall(normalised(text))]


# ---- lexicon ---------------------------------------------------------------------------------------
# An entry is a word (its stem is compared: `буду` matches `будем`) or a root ending in `*`
# (`отпис*` matches отпишите, отписаться, отписка). Sequences are phrases, in order.

def _distance(a: str, b: str, limit: int) -> int:
    """Damerau–Levenshtein distance (adjacent swaps count once), stopping early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True)
class Entry:
    root: str
    exact: bool  # a word: compare stems; else a root: compare the beginning
    typos: int  # edits allowed (long words only)
    literal: bool = False  # `=word`: this very form (`=смогу` is not `смог`)

    def matches(self, word: Word) -> bool:
        if self.literal:
            return word.text == self.root or (self.typos > 0 and len(word.text) >= 6 and word.text[0] == self.root[0]
                                              and _distance(word.text, self.root, 1) <= 1)
        if self.exact:
            if word.stem == self.root:
                return True
            return (self.typos > 0 and len(word.stem) >= 6 and word.stem[0] == self.root[0]
                    and _distance(word.stem, self.root, self.typos) <= self.typos)
        if word.text.startswith(self.root):
            return True
        if self.typos and len(word.text) >= len(self.root) and word.text[0] == self.root[0]:
            return _distance(word.text[:len(self.root)], self.root, self.typos) <= self.typos
        return False


def _entries(spec: str, typos: bool = True) -> tuple[Entry, ...]:
    out = []
    for item in spec.split():
        root = item.rstrip("*").lstrip("=")
        collapsed = _REPEATS.sub(r"\1", root)
        if item.startswith("="):
            out.append(Entry(collapsed, False, 1 if typos else 0, literal=True))
        elif item.endswith("*"):
            out.append(Entry(collapsed, False, (1 if len(collapsed) >= 6 else 0) if typos else 0))
        else:
            stem = _word(root).stem
            allowed = 0 if not typos or len(stem) < 6 else (1 if len(stem) < 10 else 2)
            out.append(Entry(stem, True, allowed))
    return tuple(out)


def _literals(spec: str) -> tuple[Entry, ...]:
    """Entries for these very forms (`смогу` is not `смог`), one typo allowed in long ones."""
    return _entries(re.sub(r"(\S+)", r"=\1", spec))


def _set(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


def _any(found: list[Word], group: str) -> list[int]:
    """Positions of the words that match an entry of the lexicon's `group`."""
    return [i for i, w in enumerate(found) if _hit(group, w)]


@lru_cache(maxsize=16384)
def _hit(group: str, word: Word) -> bool:
    """Whether a word matches an entry of `group` (remembered: patients use few words, over and over)."""
    return any(e.matches(word) for e in _lexicon()[group])


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, tuple[Entry, ...]]:
    return {
        # stop, on their own
        "stop_words": _entries("отпис* отпиш* unsubscrib* optout отстаньте отстань спам* spam "
                               "надоел* достали задолбал*", typos=False),
        "stop_bare": _entries("=стоп =stop", typos=False),
        "channels": _entries("рассылк* рассылок уведомлени* напоминани* сообщени* смс* sms* реклам* акци* спам* "
                             "newsletter* messag* text* notification*", typos=False),
        "refuse": _entries("отказ* убер* удал* исключ* вычеркн* отключ* отпис* хватит прекрат* remov* delet*",
                           typos=False),
        "remove": _entries("удал* убер* исключ* вычеркн* remov* delet*", typos=False),
        "whom": _entries("мен* мой мое номер* баз* списк* контакт* телефон* me my number list", typos=False),
        "firm_negators": _entries("хватит перестан* прекрат* достаточно никогда больше вообще сюда", typos=False),
        "preference": _entries("лучше только до после утр* вечер* днем дня обед* ночь* ночью выходн* будн* работ* "
                               "занят* сейчас пока позже позднее телеграм* telegram* ватсап* вотсап* whatsapp* "
                               "вацап* почт* mail* перезвон* напиш* рабоч* instead later before after", typos=False),
        # a patient's answer to "will you come?"
        "confirm_firm": _entries("буду будем будет приду придем придет приеду приедем подойду подойдем подъеду "
                                 "подъедем подтверждаю подтверждаем подтверждено явлюсь ждите =прийду =приду "
                                 "confirm* coming attend*"),
        "confirm_phrase_heads": _entries("в все до see will be", typos=False),
        "confirm_soft": _literals(
            "да ага угу конечно ок окей оке ok okay хорошо хоршо харашо согласен согласна договорились обязательно "
            "непременно отлично yes yeah yep yup sure fine эмо_да + давайте ладно лады "
            ),
        "decline_firm": _entries("отмен* перенес* перенос* перенест* передума* заболел* заболе* =болею =болеем "
                                 "=болеет приболел* простыл* простуд* температур* больничн* уехал* уезжа* уеду "
                                 "командировк* отъезд* cancel* reschedul* postpon* sick ill", typos=False),
        "decline_can": _literals(
            "смогу сможем сможет смогут могу можем получится получиться получается выйдет успею успеваю успеем "
            "попаду приду придем придет приеду подойду подойдем буду будем будет подтверждаю явлюсь нужно надо "
            "актуально сумею"),
        "decline_soft": _entries("=нет =неа =no =nope =эмо_нет =- =нит", typos=False),
        "doubt": _entries("наверн* возможно постараюсь попробую попытаюсь если уверен* посмотрим точно "
                          "maybe perhaps probably try", typos=False),
        "doubt_weak": _entries("может скорее", typos=False),
        "question": _entries("можно подскаж* скажит* кто сколько когда где куда адрес какой какая какие почему зачем "
                             "что чем как ли what when where how which why could can", typos=False),
        "start_words": _entries("старт start подписа* subscrib*", typos=False),
    }


# ---- ratings ---------------------------------------------------------------------------------------

_NUMBER_WORDS = {"один": 1, "одна": 1, "единица": 1, "единицу": 1, "кол": 1, "два": 2, "двойка": 2, "двойку": 2,
                 "три": 3, "тройка": 3, "тройку": 3, "четыре": 4, "четверка": 4, "четверку": 4, "пять": 5,
                 "пятерка": 5, "пятерку": 5, "пятерочка": 5, "пятерочку": 5, "one": 1, "two": 2, "three": 3,
                 "four": 4, "five": 5}
_RATING_HEAD = (r"(?:(?:(?:моя|ваша|наша)\s+)?(?:оценк\w*|оцениваю|оценю|ставлю|ставим|поставлю|даю)"
                r"(?:\s+(?:вам|вас|врачу|доктору|клинике))?(?:\s+на)?|на|тв[её]рд\w*|крепк\w*|уверенн\w*|"
                r"честн\w*|чист\w*|rating|score|rate|i\s+give)?")
_NUMBER = r"([1-5]|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_RATING_LEAD = re.compile(rf"^\W*{_RATING_HEAD}\s*[:\-–—=]?\s*{_NUMBER}(?![0-9:.,]?\d)"
                          r"(?:\s*(?:из|/|out\s+of)\s*(?:5|пяти|five))?"
                          r"(?:\s*(?:балл\w*|звезд\w*|stars?|points?))?"
                          r"(?P<rest>.*)$", re.S)
_RATING_TAIL = re.compile(rf"^(?P<comment>.*?)[,.!;:\-–—]\s*(?:оценка\s*|на\s*)?{_NUMBER}\s*"
                          r"(?:из\s*5|/\s*5|балл\w*)?[\s!.+)]*$", re.S)
_TIME_AFTER = re.compile(r"^\s*(?:час|ч\b|утра|вечера|дня|мин|:|\.\d|числа|числу|декабр|январ|феврал|март|апрел|"
                         r"ма[яй]|июн|июл|август|сентябр|октябр|ноябр|дн|недел|лет|год|раз|зуб|тысяч|т\.?р|руб|%|"
                         r"pm|am|o'?clock|minutes?|hours?|days?|зуба|зубов)", re.I)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


def _rating(text: str) -> tuple[int, str] | None:
    """A 1–5 rating that opens the reply ("5!", "оценка 4", "2 - долго ждал"), ends it ("Всё отлично, 5"),
    or is written in stars; with the words that came with it."""
    cleaned = normalised(text).strip()
    stars = _STARS.findall(cleaned)
    if stars and 1 <= len(stars) <= 5 and not re.search(r"\d", cleaned):
        return len(stars), _comment(_STARS.sub(" ", cleaned))
    lead = _RATING_LEAD.match(cleaned)
    if lead and not _TIME_AFTER.match(lead.group("rest")):
        rest = lead.group("rest")
        if not rest.strip() or re.match(r"^\s*[\s!+.,;:)\-–—(]", rest) or rest[:1] in "!+":
            return _number(lead.group(1)), _comment(rest)
    tail = _RATING_TAIL.match(cleaned)
    if tail and tail.group("comment").strip() and not re.search(r"\b(?:в|к|до|после|на|с|около)\s*$",
                                                                 tail.group("comment")):
        return _number(tail.group(2)), _comment(tail.group("comment"))
    return None


def _comment(rest: str) -> str:
    return re.sub(r"^[\s!+.,;:)\-–—(]+|[\s]+$", "", rest)[:500]


# ---- meaning ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    meaning: str  # one of MEANINGS
    rating: int | None = None
    comment: str = ""  # what came with a rating
    question: bool = False  # it also asks something a person should answer
    why: str = ""  # the rule that decided (for the desk's hint and the bench)


_CONTACT_VERBS = _set(
    "пишите писать пиши присылайте присылать присылай отправляйте отправлять звоните звонить звони беспокойте "
    "беспокоить тревожьте тревожить донимайте надоедайте шлите слать спамьте спамить рассылайте досаждайте "
    "названивайте названивать")
_CONTACT_PAST = _set("звонили писали присылали беспокоили отправляли названивали")
_NEGATORS = _set("не нельзя хватит перестаньте прекратите")
_ENGLISH_STOP = re.compile(
    r"\b(?:(?:do not|don ?t|dont|pls don ?t|please don ?t|never) (?:\w+ ){0,2}(?:text|message|call|contact|email|"
    r"write|send|bother)|stop (?:texting|messaging|calling|sending|writing|contacting)|no more (?:messages|texts|"
    r"calls|sms)|remove me|take me off|leave me alone|opt out|not interested,? (?:stop|don ?t))\b")


def _is_contact_verb(text: str) -> bool:
    if text in _CONTACT_VERBS:
        return True
    # one letter mistyped in a long verb ("пешите", "звaните"): same length, not the first letters
    return len(text) >= 6 and any(len(v) == len(text) and v[:2] == text[:2]
                                  and sum(a != b for a, b in zip(v, text, strict=True)) == 1
                                  for v in _CONTACT_VERBS)


def _stop(found: list[Word], lex: dict[str, tuple[Entry, ...]]) -> str | None:
    """Why these words ask not to be contacted (None: they do not)."""
    if _any(found, "stop_words"):
        return "stop word"
    texts = [w.text for w in found]
    bare = [i for i in _any(found, "stop_bare") if texts[i + 1:i + 2] != ["-"]]  # not «стоп-кран»
    if bare and not ("?" in " ".join(texts) or _any(found, "question")):
        return "stop word"  # «стоп, а когда приём?» asks something: a person reads it
    joined = " " + " ".join(texts) + " "
    if _ENGLISH_STOP.search(joined):
        return "no more contact"
    unwanted = any(p in joined for p in (" не хочу ", " не нужн", " не надо ", " не нужно ", " без "))
    if _any(found, "channels") and (_any(found, "refuse") or unwanted):
        return "refuses the messages"
    if _any(found, "remove") and _any(found, "whom"):
        return "asks to be removed"
    verbs = [i for i, t in enumerate(texts) if _is_contact_verb(t)]
    negated = [i for i in verbs if _NEGATORS & set(texts[max(0, i - 3):i])]
    if not negated and not (" не хочу " in joined and _CONTACT_PAST & set(texts)):
        return None
    if _any(found, "firm_negators") or " не хочу " in joined:
        return "no more contact"
    if _any(found, "preference"):
        return None  # "не звоните до обеда", "не пишите в ватсап, лучше в телеграм": a person answers
    return "no contact"


def _negated(texts: list[str], positions: list[int]) -> bool:
    """A word with не/нет/no in the two words before it ("не да", "not yes")."""
    return any(set(texts[max(0, i - 2):i]) & {"не", "not"} for i in positions)


def _negated_can(found: list[Word], lex: dict[str, tuple[Entry, ...]]) -> bool:
    """"не смогу", "не приду", "не получится", "не надо", "can't come"."""
    texts = [w.text for w in found]
    for i in _any(found, "decline_can"):
        if "не" in texts[max(0, i - 2):i]:
            return True
    english = " ".join(texts)
    return bool(re.search(r"\b(can t|cant|cannot|won t|wont|not able|unable|couldn t|not coming|can not)\b",
                          english))


def understand(text: str) -> Reply:
    """What the patient means (see the module's docstring for the order of the rules)."""
    found = words(text)
    lex = _lexicon()
    stop = _stop(found, lex)
    if stop:
        return Reply("stop", why=stop)
    if _any(found, "start_words") and len(found) <= 4:
        return Reply("start", why="start word")
    rated = _rating(text)
    if rated is not None:
        return Reply("rating", rated[0], rated[1], why="rating")
    texts = [w.text for w in found]
    joined = " " + " ".join(texts) + " "
    opens_with_question = _question_first(found, lex)
    question = "?" in text or opens_with_question
    moves = bool(_any(found, "decline_firm"))  # move, cancel, ill, away: the visit is off as booked
    cannot = _negated_can(found, lex)
    asked = _any(found, "question")  # "Кто будет вести приём?": a question, not an answer
    confirm_positions = [i for i in _any(found, "confirm_firm")
                         if not set(texts[max(0, i - 2):i]) & _NOT and not any(q < i for q in asked)]
    confirms = not opens_with_question and (bool(confirm_positions) or _confirm_phrase(joined))
    doubt = bool(_any(found, "doubt")) or any(p in joined for p in (" не знаю ", " или нет ", " не точно "))
    doubt = doubt or (bool(_any(found, "doubt_weak")) and not confirms)
    signs = ("+", "-")  # a bare «+» or «-» answers; inside a text it is a hyphen or a phone's plus
    soft = [i for i in _any(found, "confirm_soft") if texts[i] not in signs or len(found) <= 2]
    soft_yes = bool(soft) and not _negated(texts, soft)
    soft_no = any(texts[i] not in signs or len(found) <= 2 for i in _any(found, "decline_soft"))
    if moves:
        return Reply("decline", question=question, why="move or cancel")
    if cannot and confirms:
        return Reply("other", question=question, why="both a firm yes and a firm no")
    if cannot:
        return Reply("decline", question=question, why="cannot come")
    if doubt:
        return Reply("other", question=question, why="doubt")
    if confirms:
        return Reply("confirm", question=question, why="firm yes")
    if soft_yes and soft_no:
        return Reply("other", question=question, why="yes and no")
    if soft_yes and not opens_with_question:
        return Reply("confirm", question=question, why="yes")
    if soft_no and not opens_with_question:
        return Reply("decline", question=question, why="no")
    return Reply("other", question=question, why="nothing certain")


_NOT = _set("не not t cant cannot wont never")


def _question_first(found: list[Word], lex: dict[str, tuple[Entry, ...]]) -> bool:
    """The reply opens with a question ("Можно ли…", "Когда…"): its yes/no words answer nothing."""
    return bool(found) and bool(_any(found[:1], "question"))


_PHRASES = ("в силе", "до встречи", "до завтра", "see you", "will be there", "be there", "i will come", "i ll come",
            "i ll be", "will come", "все верно", "все ок", "как штык")


def _confirm_phrase(joined: str) -> bool:
    """"всё в силе", "до встречи", "see you" (not after a negation: "не в силе")."""
    return any(f" {phrase} " in joined and f" не {phrase} " not in joined for phrase in _PHRASES)


def interpret(text: str) -> Reply:
    """Alias kept for callers that read replies by the older name."""
    return understand(text)
