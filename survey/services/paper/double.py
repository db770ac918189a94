"""Double entry (双录入): two clerks type the same papers; a reviewer settles every mismatch.

Both files are read and matched to their template; rows are paired by serial number (by
point and serial when serials repeat within a file). Every cell of a pair that differs is a
mismatch (serial, question, value A, value B), and a row typed by one clerk only is one
too. The batch keeps both files' rows until a reviewer has settled each mismatch (A, B, or
a corrected value); only then can it be stored, through the same checks and writer as a
single import, all or nothing. The clerks' agreement rate is the share of compared cells
(every column of every paired row) they typed alike.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from survey.errors import Conflict
from survey.errors import ImportFileError
from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import PaperBatch
from survey.models import PaperMismatch
from survey.models import Region
from survey.models import User
from survey.models.base import utcnow
from survey.services import access
from survey.services import audit
from survey.services.paper.cells import Row
from survey.services.paper.cells import normal
from survey.services.paper.importing import Parsed
from survey.services.paper.importing import Progress
from survey.services.paper.importing import Target
from survey.services.paper.importing import check
from survey.services.paper.importing import read_file
from survey.services.paper.importing import target_of
from survey.services.paper.storing import ImportResult
from survey.services.paper.storing import new_batch
from survey.services.paper.storing import record
from survey.services.paper.storing import store_rows

#: Column key of a mismatch about a whole row (typed by one clerk only).
WHOLE_ROW = "*"


@dataclass(frozen=True)
class Upload:
    """One uploaded file."""

    filename: str
    data: bytes


def compare(first: Upload, second: Upload, user: User | None) -> PaperBatch:
    """Read both entries, list every mismatch, keep both in a batch awaiting review."""
    a = read_file(first.filename, first.data)
    b = read_file(second.filename, second.data)
    if a.target.version.id != b.target.version.id:
        raise ImportFileError("两份文件不是同一问卷、同一版本的录入模板，无法比对。")
    keys_a, keys_b = _keys(a.rows, b.rows)
    rows_a = dict(zip(keys_a, a.rows, strict=True))
    rows_b = dict(zip(keys_b, b.rows, strict=True))
    columns = [c for c in a.target.columns if c.key != "serial"]
    found: list[PaperMismatch] = []
    compared = 0
    for key in list(rows_a) + [k for k in rows_b if k not in rows_a]:
        ra, rb = rows_a.get(key), rows_b.get(key)
        serial = normal((ra or rb).cells.get("serial", ""))  # type: ignore[union-attr]
        if ra is None or rb is None:
            found.append(_whole_row(key, serial, ra, rb))
            continue
        compared += len(columns)
        for c in columns:
            va, vb = normal(ra.cells.get(c.key, "")), normal(rb.cells.get(c.key, ""))
            if va != vb:
                found.append(
                    PaperMismatch(
                        serial=serial[:40],
                        row_key=key[:120],
                        column=c.key,
                        heading=c.title[:300],
                        value_a=va,
                        value_b=vb,
                    )
                )
    batch = new_batch(
        a.target,
        user,
        first.filename,
        len(set(rows_a) | set(rows_b)),
        status="review",
        double_entry=True,
        file_b=second.filename[:200],
        rows_a=_dump(a, keys_a),
        rows_b=_dump(b, keys_b),
    )
    batch.compared_cells = compared
    batch.mismatch_count = len(found)
    batch.mismatches.extend(found)
    db.session.flush()
    audit.record(
        user,
        "paper_double",
        "paper_batch",
        batch.id,
        file=first.filename[:100],
        file_b=second.filename[:100],
        rows=batch.row_count,
        mismatches=len(found),
        compared=compared,
    )
    return batch


def _keys(a: Sequence[Row], b: Sequence[Row]) -> tuple[list[str], list[str]]:
    """Pairing keys: the serial, or point and serial when serials repeat in a file."""
    serials_a = [normal(r.cells.get("serial", "")) for r in a]
    serials_b = [normal(r.cells.get("serial", "")) for r in b]
    repeated = any(n > 1 for n in Counter(serials_a).values()) or any(
        n > 1 for n in Counter(serials_b).values()
    )

    def keys(rows: Sequence[Row], serials: list[str]) -> list[str]:
        out: list[str] = []
        seen: Counter[str] = Counter()
        for r, serial in zip(rows, serials, strict=True):
            key = (
                f"{normal(r.cells.get('point', '')).split(' ')[0]}|{serial}" if repeated else serial
            )
            seen[key] += 1
            out.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
        return out

    return keys(a, serials_a), keys(b, serials_b)


def _whole_row(key: str, serial: str, ra: Row | None, rb: Row | None) -> PaperMismatch:
    return PaperMismatch(
        serial=serial[:40],
        row_key=key[:120],
        column=WHOLE_ROW,
        heading="整份问卷",
        value_a=f"已录入（第 {ra.number} 行）" if ra else "未录入",
        value_b=f"已录入（第 {rb.number} 行）" if rb else "未录入",
    )


def _dump(parsed: Parsed, keys: list[str]) -> str:
    columns = [c.key for c in parsed.target.columns]
    rows = [
        [key, r.number, [r.cells.get(c, "") for c in columns]]
        for key, r in zip(keys, parsed.rows, strict=True)
    ]
    return json.dumps({"columns": columns, "rows": rows}, ensure_ascii=False)


def _load(text: str | None) -> dict[str, Row]:
    data = json.loads(text or '{"columns": [], "rows": []}')
    columns: list[str] = data["columns"]
    index = {c: i for i, c in enumerate(columns)}
    return {
        key: Row(number, dict(zip(columns, cells, strict=True)), index)
        for key, number, cells in data["rows"]
    }


def batch_in_scope(user: User | None, batch_id: int) -> PaperBatch:
    """The batch if ``user`` may see it (its uploader's scope lies within theirs), else 404."""
    batch = db.session.get(PaperBatch, batch_id)
    if batch is None or (user is not None and not _sees(user, batch)):
        raise NotFound("批次不存在或不在您的管辖范围内。")
    return batch


def _sees(user: User, batch: PaperBatch) -> bool:
    if access.sees_nothing(user):
        return False
    root = access.scope_root(user)
    if root is None:
        return True
    region = db.session.get(Region, batch.region_id) if batch.region_id is not None else None
    return region is not None and region.is_within(root)


def recent_batches(user: User, limit: int = 50) -> list[PaperBatch]:
    """The newest batches ``user`` may see."""
    query = select(PaperBatch).order_by(PaperBatch.id.desc()).limit(limit * 4)
    found = [b for b in db.session.execute(query).scalars() if _sees(user, b)]
    return found[:limit]


def settle(
    batch: PaperBatch, mismatch_id: int, decision: str, value: str, user: User | None
) -> PaperMismatch:
    """Record the reviewer's decision on one mismatch: "a", "b", or "value" (typed)."""
    _open(batch)
    found = next((m for m in batch.mismatches if m.id == mismatch_id), None)
    if found is None:
        raise NotFound("没有这条差异。")
    if decision not in ("a", "b", "value") or (decision == "value" and found.column == WHOLE_ROW):
        raise InvalidInput("请选择采用 A 卷或 B 卷的值，或填写核对后的值。")
    found.decision = decision
    found.value = normal(value)[:500] if decision == "value" else None
    found.decided_by_id = user.id if user is not None else None
    found.decided_at = utcnow()
    db.session.flush()
    audit.record(
        user,
        "paper_settle",
        "paper_batch",
        batch.id,
        serial=found.serial,
        column=found.column,
        decision=decision,
        value=found.settled_value,
    )
    return found


def _open(batch: PaperBatch) -> None:
    if batch.status != "review":
        raise Conflict(f"此批次{batch.status_name}，不能再修改。")


def unsettled(batch: PaperBatch) -> int:
    """Mismatches still waiting for a decision."""
    return sum(1 for m in batch.mismatches if m.decision is None)


def merged(batch: PaperBatch) -> Parsed:
    """Entry A with every settled mismatch applied (rows typed by one clerk as decided)."""
    rows_a, rows_b = _load(batch.rows_a), _load(batch.rows_b)
    target: Target = target_of_batch(batch)
    out: dict[str, Row] = dict(rows_a)
    for m in batch.mismatches:
        chosen = m.settled_value
        if m.column == WHOLE_ROW:
            source = rows_a if m.decision == "a" else rows_b
            if m.row_key in source:
                out[m.row_key] = source[m.row_key]
            else:
                out.pop(m.row_key, None)
        elif m.row_key in out and chosen is not None:
            out[m.row_key].cells[m.column] = chosen
    return Parsed(batch.file_a, target, sorted(out.values(), key=lambda r: r.number))


def target_of_batch(batch: PaperBatch) -> Target:
    """The target (version, columns, period) of a batch."""
    version = batch.version
    return target_of(version.questionnaire.key, version.version)


def store_batch(
    batch: PaperBatch, user: User | None, progress: Progress | None = None
) -> ImportResult:
    """Store a settled double-entry batch: all its rows or none (every bad cell listed)."""
    _open(batch)
    left = unsettled(batch)
    if left:
        raise Conflict(f"还有 {left} 处差异未核定，核定全部差异后才能入库。")
    parsed = merged(batch)
    checked = check(parsed, user, progress)
    name = f"{batch.file_a} + {batch.file_b}"
    if not checked.ok:
        record(user, name, len(parsed.rows), "refused", batch=batch.id, errors=len(checked.errors))
        return ImportResult(checked)
    store_rows(batch, parsed.target, checked.ready, progress)
    batch.row_count = len(parsed.rows)
    batch.rows_a = batch.rows_b = None
    db.session.flush()
    record(user, name, len(parsed.rows), "stored", batch=batch.id)
    return ImportResult(checked, batch, len(checked.ready))


def discard(batch: PaperBatch, user: User | None) -> None:
    """Give up a batch in review (its files are dropped; nothing was stored)."""
    _open(batch)
    batch.status = "discarded"
    batch.rows_a = batch.rows_b = None
    db.session.flush()
    audit.record(user, "paper_discard", "paper_batch", batch.id, file=batch.file_a[:100])
