"""How many SMS parts a text takes: GSM-7 (160, or 153 per part) or UCS-2 (70, or 67 per part)."""

from __future__ import annotations

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = set("^{}\\[~]|€\f")  # two septets each


def sms_parts(text: str) -> int:
    """Parts of a concatenated SMS; Cyrillic (and any character outside GSM-7) makes the whole text UCS-2."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, part = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)
