"""Pure QR rendering: a URL (plus an optional caption) in, PNG or SVG bytes out.

Fast enough for batches (a ZIP or print sheet of 2,000 points): segno builds the symbol
(the data mask chosen by the standard's penalty rules, vectorised here), numpy scales it to
pixels, the PNG is a greyscale image saved at a low zlib level, and the SVG is one path
with one run per row of dark modules.
Captions are drawn on one line whatever they hold: control characters stored before they
were refused become spaces, so a name can never make an image fail.
"""

from __future__ import annotations

import io
import os
import subprocess
from functools import lru_cache
from xml.sax.saxutils import escape

import numpy as np
import segno
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from survey.services.names import printable

# Error correction at least M survives ~15 % damage (a scuffed poster; segno raises it
# when that fits in the same symbol size); 4 modules is the standard quiet zone that
# scanners need around the symbol.
ERROR_CORRECTION = "m"
QUIET_ZONE = 4
# zlib level of the PNGs: level 3 makes files a third larger than "optimize" in a tenth of
# the time (about 1 ms for a poster).
PNG_COMPRESS_LEVEL = 3
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


def modules(url: str) -> np.ndarray:
    """The symbol for ``url`` as a boolean matrix (True = dark), quiet zone included.

    segno encodes the data; the data mask is chosen here, vectorised: segno evaluates the
    eight masks of ISO/IEC 18004 7.8.3 module by module in Python (most of its time), this
    scores all eight at once with numpy using the same penalty rules (N1-N4) and keeps the
    lowest, as the standard asks.
    """
    try:
        dark = _best_masked(url)
    except Exception:  # pragma: no cover - a segno we do not know: its own, slower way
        dark = np.asarray(segno.make_qr(url, error=ERROR_CORRECTION).matrix, dtype=bool)
    return np.pad(dark, QUIET_ZONE)


def _best_masked(url: str) -> np.ndarray:
    from segno import encoder

    code = encoder.encode(url, error=ERROR_CORRECTION, mask=0, micro=False)
    masked0 = np.asarray(code.matrix, dtype=bool)
    region, patterns = _mask_layout(masked0.shape[0])
    # Every candidate from mask 0's symbol: flip the data region where the masks differ.
    candidates = masked0 ^ (region & (patterns ^ patterns[0]))
    best = int(np.argmin(_penalties(candidates)))
    rows = [bytearray(row) for row in candidates[best].astype(np.uint8)]
    encoder.add_format_info(rows, code.version, code.error, best)
    return np.asarray(rows, dtype=bool)


@lru_cache(maxsize=64)
def _mask_layout(width: int) -> tuple[np.ndarray, np.ndarray]:
    """(data region, the eight mask patterns) of a symbol ``width`` modules wide."""
    from segno import encoder

    function = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(function, width, width)
    encoder.add_alignment_patterns(function, width, width)
    function[-8][8] = 0x1
    region = np.asarray(function, dtype=np.uint8) > 0x1
    i, j = np.indices((width, width))
    patterns = np.stack(
        [
            (i + j) % 2 == 0,
            i % 2 == 0,
            j % 3 == 0,
            (i + j) % 3 == 0,
            (i // 2 + j // 3) % 2 == 0,
            (i * j) % 2 + (i * j) % 3 == 0,
            ((i * j) % 2 + (i * j) % 3) % 2 == 0,
            ((i + j) % 2 + (i * j) % 3) % 2 == 0,
        ]
    )
    region.setflags(write=False)
    patterns.setflags(write=False)
    return region, patterns


# Windows of 15 modules as numbers (first module = highest bit): four before, the 1:1:3:1:1
# core (dark:light:dark:light:dark), four after.
_BITS = 1 << np.arange(14, -1, -1, dtype=np.int32)
_FINDER_CORE = 0b1011101


def _penalties(symbols: np.ndarray) -> np.ndarray:
    """ISO/IEC 18004 7.8.3.1 penalty of each symbol in a stack ``(k, n, n)`` of booleans."""
    k, n, _ = symbols.shape
    cells = symbols.astype(np.int32)
    score = np.zeros(k, dtype=np.int64)
    edge = np.full((k, n, 1), 2, dtype=np.int32)
    for grid in (cells, cells.transpose(0, 2, 1)):
        # N1: runs of five or more modules of one colour in a line: 3 + (length - 5). The
        # edge value differs from both colours, so every line starts and ends a run.
        changes = np.flatnonzero(np.diff(np.concatenate([edge, grid, edge], axis=2), axis=2))
        runs = np.diff(changes)
        long = runs >= 5
        owner = changes[:-1][long] // (n * (n + 1))
        score += np.bincount(owner, weights=runs[long] - 2, minlength=k).astype(np.int64)
        # N3: 1:1:3:1:1 patterns with four light modules before or after (beyond the
        # symbol's edge is light): 40 each.
        padded = np.pad(grid, ((0, 0), (0, 0), (4, 4)))
        numbers = np.lib.stride_tricks.sliding_window_view(padded, 15, axis=2) @ _BITS
        core = (numbers >> 4) & 0x7F == _FINDER_CORE
        light = ((numbers >> 11) == 0) | ((numbers & 0xF) == 0)
        score += 40 * (core & light).sum(axis=(1, 2))
    # N2: 2x2 blocks of one colour: 3 each.
    corner = cells[:, :-1, :-1]
    same = (corner == cells[:, 1:, :-1]) & (corner == cells[:, :-1, 1:])
    same &= corner == cells[:, 1:, 1:]
    score += 3 * same.sum(axis=(1, 2))
    # N4: 10 per full 5 % that the share of dark modules strays from 50 %.
    dark = cells.sum(axis=(1, 2)) * 100 / (n * n)
    score += 10 * (np.abs(dark - 50) // 5).astype(np.int64)
    return score


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


@lru_cache(maxsize=16384)
def _char_width(ch: str, size: int) -> float:
    latin, cjk = _fonts(size)
    return float((latin if ch.isascii() else cjk).getlength(ch))


def _text_width(draw: ImageDraw.ImageDraw, text: str, size: int) -> float:
    return sum(draw.textlength(run, font=font) for run, font in _runs(text, size))


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``max_width`` pixels.

    Widths come from a per-character cache (kerning aside, a line is the sum of its
    characters), so a long label costs one pass, not one measurement per character cut.
    """
    widths = [_char_width(ch, size) for ch in text]
    if sum(widths) <= max_width and _text_width(draw, text, size) <= max_width:
        return text
    budget = max_width - sum(_char_width(ch, size) for ch in "...")
    used = 0.0
    for index, width in enumerate(widths):
        if used + width > budget:
            return text[:index] + "..."
        used += width
    return text + "..."


def png_bytes(url: str, caption: str = "", code: str = "", box_size: int = 10) -> bytes:
    """PNG of the QR code for ``url`` with ``caption`` and ``code`` printed underneath."""
    dark = modules(url)
    symbol = np.where(dark, 0, 255).astype(np.uint8).repeat(box_size, 0).repeat(box_size, 1)
    lines = [printable(line) for line in (caption, code) if line]
    size = max(14, box_size * 2)
    line_height = int(size * 1.5)
    width = symbol.shape[1]
    text_height = len(lines) * line_height + QUIET_ZONE * box_size if lines else 0
    pixels = np.full((symbol.shape[0] + text_height, width), 255, dtype=np.uint8)
    pixels[: symbol.shape[0]] = symbol
    canvas = Image.fromarray(pixels, "L")
    draw = ImageDraw.Draw(canvas)
    # The symbol's own quiet zone stays blank: text starts below it.
    y = symbol.shape[0]
    for line in lines:
        text = _fit(draw, line, size, width - 2 * box_size)
        x = (width - _text_width(draw, text, size)) / 2
        for run, font in _runs(text, size):
            draw.text((x, y), run, fill=0, font=font)
            x += draw.textlength(run, font=font)
        y += line_height
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def _path_d(dark: np.ndarray) -> str:
    """SVG path data: one ``M x y h n v1 h -n z`` rectangle per run of dark modules."""
    padded = np.zeros((dark.shape[0], dark.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = dark
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)  # row-major: the runs of each row in order
    ends = np.nonzero(edges == -1)[1]
    return "".join(
        f"M{x0} {y}h{x1 - x0}v1h{x0 - x1}z"
        for y, x0, x1 in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
    )


def svg_bytes(url: str, caption: str = "", code: str = "") -> bytes:
    """SVG of the QR code for ``url``; caption and code as <text> under the symbol."""
    dark = modules(url)
    size = dark.shape[0]
    lines = [printable(line) for line in (caption, code) if line]
    text_height = 3.2 * len(lines) + (2 if lines else 0)
    height = size + text_height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {size} {height:g}"'
        f' width="{size * 2}mm" height="{height * 2:g}mm">',
        f'<rect width="{size}" height="{height:g}" fill="#fff"/>',
        f'<path d="{_path_d(dark)}" fill="#000" shape-rendering="crispEdges"/>',
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
