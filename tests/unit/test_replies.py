"""What patients mean by their replies."""

from __future__ import annotations

import pytest

from chalicelib.domain.replies import interpret


@pytest.mark.parametrize("text, meaning, rating", [
    ("Да", "yes", None), ("да!", "yes", None), ("Yes", "yes", None), ("Подтверждаю", "yes", None),
    ("нет", "no", None), ("Не смогу", "no", None),
    ("5", "rating", 5), ("оценка 4", "rating", 4), ("1!", "rating", 1),
    ("СТОП", "opt_out", None), ("Старт", "opt_in", None),
    ("Можно записаться на чистку в субботу?", "other", None), ("6", "other", None),
    ("у меня 2 зуба болят, что делать", "other", None),
])
def test_interpret(text: str, meaning: str, rating: int | None) -> None:
    reply = interpret(text)
    assert (reply.meaning, reply.rating) == (meaning, rating)
