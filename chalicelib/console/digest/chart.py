"""The funnel chart of the digest email: a small PNG drawn with Pillow."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from chalicelib.platform.i18n import format_percent

FONTS = Path(__file__).parent / "fonts"
SCALE = 2  # drawn at twice the displayed size for sharp text on retina screens
WIDTH, ROW, PAD = 560, 46, 16
COLORS = ("#2563eb", "#0ea5e9", "#10b981")
INK, MUTED, TRACK = "#111827", "#6b7280", "#eef2f7"


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size * SCALE)


def funnel_png(title: str, stages: list[tuple[str, int]], language: str = "en") -> bytes:
    """Horizontal funnel: one bar per stage, its count and its share of the first stage (title optional)."""
    head = 28 if title else 0
    height = PAD * 2 + head + ROW * len(stages)
    image = Image.new("RGB", (WIDTH * SCALE, height * SCALE), "white")
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((PAD * SCALE, PAD * SCALE), title, font=_font(15, bold=True), fill=INK)
    base = stages[0][1] if stages else 0
    bar_x = PAD + 150
    bar_w = WIDTH - bar_x - PAD - 110
    for index, (label, value) in enumerate(stages):
        top = PAD + head + index * ROW
        draw.text((PAD * SCALE, (top + 10) * SCALE), label[:20], font=_font(13), fill=INK)
        draw.rounded_rectangle([bar_x * SCALE, (top + 6) * SCALE, (bar_x + bar_w) * SCALE, (top + 32) * SCALE],
                               radius=6 * SCALE, fill=TRACK)
        share = value / base if base else 0
        if value:
            filled = max(8, int(bar_w * share))
            draw.rounded_rectangle([bar_x * SCALE, (top + 6) * SCALE, (bar_x + filled) * SCALE, (top + 32) * SCALE],
                                   radius=6 * SCALE, fill=COLORS[index % len(COLORS)])
        pct = format_percent(round(share * 100), language) if base else "—"
        draw.text(((bar_x + bar_w + 10) * SCALE, (top + 9) * SCALE), f"{value}", font=_font(14, bold=True),
                  fill=INK)
        draw.text(((bar_x + bar_w + 58) * SCALE, (top + 11) * SCALE), pct, font=_font(12), fill=MUTED)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
