"""QR codes of many points at once: file names, the index and the ZIP, for staff and CLI.

The staff area's ZIP and ``survey qr export`` write the same files under the same names with
the same ``index.csv`` (written by the one CSV writer, formulas escaped). File names are
built from region and channel codes and the point code; anything outside a safe character
set is replaced, so no stored value can name a file outside the target folder or archive.

Big batches (any number of points, thousands at a time) stay fast: posters are rendered by
the fast path of ``survey.qr`` and kept in the ``posters`` cache, and the ZIP is streamed
entry by entry (PNGs stored, not deflated again) so the first bytes leave at once and
memory stays flat.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO

from survey import qr
from survey.cache import Caches
from survey.cache import cached
from survey.cache import caches
from survey.links import questionnaire_url
from survey.models import CollectionPoint
from survey.services.csv_files import csv_bytes
from survey.services.names import printable

INDEX_HEADERS: tuple[str, ...] = ("编码", "区域编码", "区域", "渠道", "名称", "文件", "链接")
_UNSAFE = re.compile(r"[^0-9A-Za-z_-]+")


def safe_part(text: str) -> str:
    """``text`` reduced to letters, digits, ``_`` and ``-`` (never empty, never a path)."""
    return _UNSAFE.sub("-", text).strip("-")[:40] or "x"


def caption(point: CollectionPoint) -> str:
    """The line printed under a poster's QR code (on one line, whatever is stored)."""
    return printable(f"{point.region.name} · {point.label}")


def file_name(point: CollectionPoint, fmt: str) -> str:
    """``<region code>_<channel code>_<point code>.<fmt>``, made safe."""
    parts = (point.region.code, point.channel.code, point.code)
    return "_".join(safe_part(p) for p in parts) + f".{safe_part(fmt)}"


def image_bytes(point: CollectionPoint, fmt: str, base_url: str | None = None) -> bytes:
    """The poster of ``point`` as PNG or SVG (from the ``posters`` cache when unchanged)."""
    url = questionnaire_url(point.code, base_url)
    text = caption(point)
    render = qr.png_bytes if fmt == "png" else qr.svg_bytes
    return cached("posters", (fmt, url, text, point.code), lambda: render(url, text, point.code))


@dataclass(frozen=True)
class SheetPoster:
    """What a print sheet shows of one point, read before the page is streamed."""

    code: str
    url: str
    title: str
    region: str
    parent: str
    channel: str
    label: str
    active: bool


def sheet_posters(
    points: Sequence[CollectionPoint], base_url: str | None = None
) -> list[SheetPoster]:
    """The print sheet's facts of ``points`` (plain values: no database access afterwards)."""
    return [
        SheetPoster(
            code=p.code,
            url=questionnaire_url(p.code, base_url),
            title=p.questionnaire_version.title,
            region=p.region.name,
            parent=p.region.parent.name if p.region.parent else "",
            channel=p.channel.name,
            label=p.label,
            active=p.active,
        )
        for p in points
    ]


def with_symbols(posters: Sequence[SheetPoster]) -> Iterator[tuple[SheetPoster, str]]:
    """Each poster with its bare QR symbol as SVG markup, rendered (or cached) as it is taken."""
    store = caches()
    for poster in posters:
        svg = store.get_or_build("posters", ("symbol", poster.url), partial(_symbol, poster.url))
        yield poster, svg


def _symbol(url: str) -> str:
    return qr.svg_bytes(url).decode("utf-8")


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
    for chunk in zip_chunks(points, base_url):
        out.write(chunk)


def zip_chunks(points: Sequence[CollectionPoint], base_url: str | None = None) -> Iterator[bytes]:
    """The ZIP of :func:`write_zip` piece by piece: one chunk per poster, then the index.

    Everything read from the database is read before the first chunk (the caller may
    stream the chunks after its request has committed). PNGs are stored as they are
    (deflating them again gains nothing); ``index.csv`` is deflated.
    """
    entries = [(file_name(p, "png"), p) for p in points]
    index = index_csv(points, "png", base_url)
    images = [(name, _poster_args(p, base_url)) for name, p in entries]
    return _zip_stream(images, index, caches())


def _poster_args(point: CollectionPoint, base_url: str | None) -> tuple[str, str, str]:
    return questionnaire_url(point.code, base_url), caption(point), point.code


def _zip_stream(
    images: list[tuple[str, tuple[str, str, str]]], index: bytes, store: Caches
) -> Iterator[bytes]:
    sink = _Sink()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(sink, "w") as archive:
        for name, (url, text, code) in images:
            key = ("png", url, text, code)
            png = store.get_or_build("posters", key, partial(qr.png_bytes, url, text, code))
            archive.writestr(_entry(name, stamp, zipfile.ZIP_STORED), png)
            yield sink.take()
        archive.writestr(_entry("index.csv", stamp, zipfile.ZIP_DEFLATED), index)
    yield sink.take()


def _entry(name: str, stamp: tuple[int, ...], compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


class _Sink:
    """A write-only, unseekable file for ``zipfile``: collects bytes until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the chunks wait in memory until taken."""

    def take(self) -> bytes:
        """Every byte written since the last call."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data
