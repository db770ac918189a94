"""Pure QR rendering: a URL (plus an optional caption) in, PNG or SVG bytes out."""

from __future__ import annotations

import io
import os
import subprocess
from functools import lru_cache
from xml.sax.saxutils import escape

import qrcode
import qrcode.image.svg
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

# Error correction M survives ~15 % damage (a scuffed poster); 4 modules is the standard
# quiet zone that scanners need around the symbol.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4
# Fonts that can draw Simplified Chinese, in order of preference (Debian paths).
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
LATIN_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def _matrix_code(url: str, image_factory: type | None = None) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE,
        box_size=10,
        image_factory=image_factory,
    )
    code.add_data(url)
    code.make(fit=True)
    return code


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """Path of a font with Chinese glyphs, or None when the system has none."""
    for path in CJK_FONT_CANDIDATES:
        if os.path.exists(path):
            return path
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", ":lang=zh"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return found if found and os.path.exists(found) else None


@lru_cache(maxsize=1)
def latin_font_path() -> str | None:
    """Path of a font for Latin letters and digits (some CJK fallbacks lack them)."""
    for path in LATIN_FONT_CANDIDATES:
        if os.path.exists(path):
            return path
    return None


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=8)
def _fonts(size: int) -> tuple[Font, Font]:
    """(font for ASCII runs, font for everything else) at ``size`` pixels."""
    cjk_path, latin_path = cjk_font_path(), latin_font_path()
    default = ImageFont.load_default(size=size)
    latin = ImageFont.truetype(latin_path, size=size) if latin_path else default
    cjk = ImageFont.truetype(cjk_path, size=size) if cjk_path else default
    if cjk_path and "CJK" in cjk_path:  # Noto CJK draws Latin too: one font, even spacing
        latin = cjk
    return latin, cjk


def _runs(text: str, size: int) -> list[tuple[str, Font]]:
    """Split ``text`` into runs of ASCII and non-ASCII characters, each with its font."""
    latin, cjk = _fonts(size)
    runs: list[tuple[str, Font]] = []
    for ch in text:
        font = latin if ch.isascii() else cjk
        if runs and runs[-1][1] is font:
            runs[-1] = (runs[-1][0] + ch, font)
        else:
            runs.append((ch, font))
    return runs


def _text_width(draw: ImageDraw.ImageDraw, text: str, size: int) -> float:
    return sum(draw.textlength(run, font=font) for run, font in _runs(text, size))


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``max_width`` pixels."""
    if _text_width(draw, text, size) <= max_width:
        return text
    while text and _text_width(draw, text + "...", size) > max_width:
        text = text[:-1]
    return text + "..."


def png_bytes(url: str, caption: str = "", code: str = "", box_size: int = 10) -> bytes:
    """PNG of the QR code for ``url`` with ``caption`` and ``code`` printed underneath."""
    qr = _matrix_code(url)
    qr.box_size = box_size
    symbol = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    lines = [line for line in (caption, code) if line]
    size = max(14, box_size * 2)
    line_height = int(size * 1.5)
    width = symbol.width
    height = symbol.height + (len(lines) * line_height + QUIET_ZONE * box_size if lines else 0)
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(symbol, (0, 0))
    draw = ImageDraw.Draw(canvas)
    # The symbol's own quiet zone stays blank: text starts below it.
    y = symbol.height
    for line in lines:
        text = _fit(draw, line, size, width - 2 * box_size)
        x = (width - _text_width(draw, text, size)) / 2
        for run, font in _runs(text, size):
            draw.text((x, y), run, fill="black", font=font)
            x += draw.textlength(run, font=font)
        y += line_height
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def svg_bytes(url: str, caption: str = "", code: str = "") -> bytes:
    """SVG of the QR code for ``url``; caption and code as <text> under the symbol."""
    qr = _matrix_code(url, qrcode.image.svg.SvgPathImage)
    image = qr.make_image()
    image.to_string()  # builds the single <path> element
    path_d = image.path.get("d", "")  # type: ignore[attr-defined]
    size = qr.modules_count + 2 * QUIET_ZONE
    lines = [line for line in (caption, code) if line]
    text_height = 3.2 * len(lines) + (2 if lines else 0)
    height = size + text_height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {size} {height:g}"'
        f' width="{size * 2}mm" height="{height * 2:g}mm">',
        f'<rect width="{size}" height="{height:g}" fill="#fff"/>',
        f'<path d="{path_d}" fill="#000"/>',
    ]
    y = size + 2.4
    for line in lines:
        parts.append(
            f'<text x="{size / 2:g}" y="{y:g}" font-size="2.4" text-anchor="middle"'
            ' font-family="Noto Sans CJK SC, WenQuanYi Zen Hei, Droid Sans Fallback,'
            f' sans-serif">{escape(line)}</text>'
        )
        y += 3.2
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")
