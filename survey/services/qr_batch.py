"""QR codes of many points at once: file names, the index and the ZIP, for staff and CLI.

The staff area's ZIP and ``survey qr export`` write the same files under the same names with
the same ``index.csv``. File names are built from region and channel codes and the point
code; anything outside a safe character set is replaced, so no stored value can name a
file outside the target folder or archive.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from collections.abc import Sequence
from typing import IO

from survey import qr
from survey.links import questionnaire_url
from survey.models import CollectionPoint
from survey.services.csv_files import csv_bytes

INDEX_HEADERS: tuple[str, ...] = ("编码", "区域编码", "区域", "渠道", "名称", "文件", "链接")
_UNSAFE = re.compile(r"[^0-9A-Za-z_-]+")


def safe_part(text: str) -> str:
    """``text`` reduced to letters, digits, ``_`` and ``-`` (never empty, never a path)."""
    return _UNSAFE.sub("-", text).strip("-")[:40] or "x"


def caption(point: CollectionPoint) -> str:
    """The line printed under a poster's QR code."""
    return f"{point.region.name} · {point.label}"


def file_name(point: CollectionPoint, fmt: str) -> str:
    """``<region code>_<channel code>_<point code>.<fmt>``, made safe."""
    parts = (point.region.code, point.channel.code, point.code)
    return "_".join(safe_part(p) for p in parts) + f".{safe_part(fmt)}"


def image_bytes(point: CollectionPoint, fmt: str, base_url: str | None = None) -> bytes:
    """The poster of ``point`` as PNG or SVG."""
    url = questionnaire_url(point.code, base_url)
    if fmt == "png":
        return qr.png_bytes(url, caption(point), point.code)
    return qr.svg_bytes(url, caption(point), point.code)


def index_csv(points: Sequence[CollectionPoint], fmt: str, base_url: str | None = None) -> bytes:
    """``index.csv``: one row per point with its file name and link."""
    return csv_bytes(INDEX_HEADERS, _index_rows(points, fmt, base_url))


def _index_rows(
    points: Iterable[CollectionPoint], fmt: str, base_url: str | None
) -> Iterable[list[str]]:
    for p in points:
        yield [
            p.code,
            p.region.code,
            p.region.name,
            p.channel.name,
            p.label,
            file_name(p, fmt),
            questionnaire_url(p.code, base_url),
        ]


def write_zip(
    out: IO[bytes], points: Sequence[CollectionPoint], base_url: str | None = None
) -> None:
    """A ZIP of PNG posters for ``points`` plus ``index.csv``, written to ``out``."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for p in points:
            archive.writestr(file_name(p, "png"), image_bytes(p, "png", base_url))
        archive.writestr("index.csv", index_csv(points, "png", base_url))
