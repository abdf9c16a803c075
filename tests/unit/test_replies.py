"""What patients mean by their replies: the rules that matter most, one table each."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.replies import understand


@pytest.mark.parametrize("text, meaning", [
    ("Да, буду", "confirm"), ("Нет, не смогу, заболел", "decline"), ("Не пишите мне больше", "stop"),
    ("Отпишите меня", "stop"), ("Прошу не беспокоить", "stop"), ("отказываюсь от рассылки", "stop"),
    ("Не звоните мне больше", "stop"), ("👍", "confirm"), ("СТОП", "stop"), ("Старт", "start"),
    ("Можно записаться на чистку в субботу?", "other"), ("6", "other"),
    ("у меня 2 зуба болят, что делать", "other"),
])
def test_everyday_words(text: str, meaning: str) -> None:
    assert understand(text).meaning == meaning


@pytest.mark.parametrize("text", ["Нет, отпишите меня", "5, но больше не пишите", "Да. И больше не звоните",
                                  "Не смогу. Удалите мой номер", "👍 стоп"])
def test_a_reply_that_says_two_things_does_the_stronger_one(text: str) -> None:
    assert understand(text).meaning == "stop"


@pytest.mark.parametrize("text, rating, comment", [
    ("5", 5, ""), ("5!", 5, ""), ("оценка 4", 4, ""), ("2 - долго ждал", 2, "долго ждал"),
    ("3, врач хороший, но ждала", 3, "врач хороший, но ждала"), ("Всё отлично, 5", 5, "все отлично"),
    ("⭐⭐⭐⭐", 4, ""), ("5️⃣", 5, ""), ("Ставлю пятёрку", 5, ""),
])
def test_ratings_keep_what_came_with_them(text: str, rating: int, comment: str) -> None:
    reply = understand(text)
    assert (reply.meaning, reply.rating, reply.comment) == ("rating", rating, comment)


@pytest.mark.parametrize("text", ["Буду в 5", "Приду к 5 часам", "Можно в 3?", "На 5 минут опоздаю, буду"])
def test_a_time_is_not_a_rating(text: str) -> None:
    assert understand(text).meaning != "rating"


@pytest.mark.parametrize("text", ["Не звоните до обеда, я на работе", "Не пишите в ватсап, пишите в телеграм",
                                  "Я не писала вам", "Не получила сообщение", "Почему мне не звонили?",
                                  "Хочу получать напоминания в телеграм", "Постараюсь прийти", "Не знаю пока",
                                  "не стоп-кран", "стоп, а когда приём?", "Остановка у клиники"])
def test_a_preference_or_a_doubt_is_not_guessed(text: str) -> None:
    assert understand(text).meaning == "other"


def test_a_confirmation_with_a_question_is_confirmed_and_asks() -> None:
    reply = understand("Да, буду. Подскажите, парковка есть?")
    assert (reply.meaning, reply.question) == ("confirm", True)


_DECOR = st.sampled_from(["", "!", "!!!", ".", " )", " 🙏", " 😊", "..."])
_CASE = st.sampled_from([str.lower, str.upper, str.capitalize, lambda s: s])


@given(st.sampled_from(["Не пишите мне больше", "Отпишите меня", "Прошу не беспокоить", "стоп",
                        "Отказываюсь от рассылки", "Не звоните мне больше", "Удалите мой номер"]), _DECOR, _CASE)
def test_stop_survives_case_punctuation_and_emoji(text: str, decor: str, case: object) -> None:
    assert understand(case(text) + decor).meaning == "stop"  # type: ignore[operator]


@given(st.sampled_from(["Да, буду", "Подтверждаю", "Приду", "Ок, спасибо, буду"]), _DECOR, _CASE)
def test_confirm_survives_case_punctuation_and_emoji(text: str, decor: str, case: object) -> None:
    assert understand(case(text) + decor).meaning == "confirm"  # type: ignore[operator]


@given(st.text(max_size=80))
def test_any_text_has_one_meaning(text: str) -> None:
    reply = understand(text)
    assert reply.meaning in ("stop", "start", "confirm", "decline", "rating", "other")
    assert reply.rating is None or 1 <= reply.rating <= 5
