"""``survey paper``: the entry template, importing typed-in paper questionnaires (all or
nothing), double entry. A refused file lists every bad cell and exits with status 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from typing import ClassVar

import click
from flask.cli import with_appcontext

from survey.cli.errors import UsageProblem
from survey.cli.errors import reported

USER_HELP = "Act as this staff account: its scope and its name in the audit log."


@click.group("paper")
def paper_group() -> None:
    """Paper questionnaires: entry template, import, double entry (双录入)."""


def _user(username: str | None) -> Any:
    if username is None:
        return None
    from survey.services.users import get_by_username

    user = get_by_username(username)
    if user is None:
        raise UsageProblem(f"没有账号 {username} / no such user")
    return user


@paper_group.command("template")
@click.option("--questionnaire", "key", required=True, help="Questionnaire key.")
@click.option("--version", type=int, help="Version number (default: the newest).")
@click.option("--user", "username", help=USER_HELP)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@reported
def template_command(key: str, version: int | None, username: str | None, out: Path) -> None:
    """Write the XLSX entry template of a questionnaire version to OUT."""
    from survey.services.paper.template import build_template
    from survey.services.paper.template import find_version

    made = build_template(find_version(key, version), _user(username))
    out.write_bytes(made.data)
    click.echo(f"已生成录入模板 {out} / template written to {out}")


class _Bars:
    """A click progress bar per phase (checking, then storing) of a long import."""

    NAMES: ClassVar[dict[str, str]] = {"check": "检查 / checking", "store": "写入 / storing"}

    def __init__(self) -> None:
        self.bar: Any = None
        self.phase = ""
        self.done = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total < 1000:
            return
        if phase != self.phase:
            self.close()
            self.phase, self.done = phase, 0
            self.bar = click.progressbar(length=total, label=self.NAMES[phase], file=None)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _refused(result: Any, again: str) -> None:
    """Print every bad cell and what to do next; commit the audit entry; exit 2."""
    from survey.services import transaction

    transaction.commit()  # the audit entry of the refusal (nothing else was written)
    errors = result.checked.errors
    for error in errors:
        click.echo(str(error), err=True)
    already = result.checked.already
    hint = f"其中 {already} 份的编号已经导入过：这份文件可能已经导入，无需再导。" if already else ""
    raise UsageProblem(
        f"共 {len(errors)} 处错误，未导入任何问卷。{hint}"
        f"请在文件中改正以上单元格（第几行、哪一列、原因）后重新导入：{again}"
    )


@paper_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", help=USER_HELP)
@with_appcontext
@reported
def import_command(file: Path, username: str | None) -> None:
    """Import a filled template (XLSX, or CSV in UTF-8 or GBK): all rows or none."""
    from survey.services import transaction
    from survey.services.paper.storing import import_file
    from survey.services.paper.storing import refused

    user = _user(username)
    bars = _Bars()
    try:
        result = import_file(file.name, file.read_bytes(), user, bars)
    except Exception as exc:
        bars.close()
        from survey.errors import SurveyError

        if isinstance(exc, SurveyError):
            transaction.rollback()
            refused(user, file.name, str(exc))
            transaction.commit()
        raise
    bars.close()
    if result.batch is None:
        _refused(result, f"survey paper import {file}")
    transaction.commit()
    click.echo(
        f"已导入 {result.stored} 份纸质问卷（批次 {result.batch.id}）/ stored {result.stored}"
    )


@paper_group.command("double")
@click.argument("file_a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("file_b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", help=USER_HELP)
@with_appcontext
@reported
def double_command(file_a: Path, file_b: Path, username: str | None) -> None:
    """Compare two clerks' entries of the same papers; list every mismatch (nothing stored)."""
    from survey.services import transaction
    from survey.services.paper.double import Upload
    from survey.services.paper.double import compare

    batch = compare(
        Upload(file_a.name, file_a.read_bytes()),
        Upload(file_b.name, file_b.read_bytes()),
        _user(username),
    )
    transaction.commit()
    _show(batch)


def _show(batch: Any) -> None:
    rate = batch.agreement
    click.echo(
        f"批次 {batch.id}（{batch.status_name}）：{batch.row_count} 份，"
        f"比对 {batch.compared_cells} 格，"
        f"{batch.mismatch_count} 处不一致，一致率 "
        + (f"{rate * 100:.2f}%" if rate is not None else "无法计算（没有可比对的问卷）")
    )
    for m in batch.mismatches:
        decided = f"  -> {m.settled_value}" if m.decision else ""
        click.echo(
            f"#{m.id}\t编号 {m.serial}\t{m.heading}\tA: {m.value_a}\tB: {m.value_b}{decided}"
        )
    if batch.status == "review":
        click.echo(
            f"下一步：逐条核定差异 survey paper settle {batch.id} 差异号 a|b|--value 值，"
            f"全部核定后入库 survey paper store {batch.id}"
        )


@paper_group.command("settle")
@click.argument("batch_id", type=int)
@click.argument("mismatch_id", type=int)
@click.argument("choice", type=click.Choice(["a", "b", "value"]))
@click.option("--value", default="", help="The corrected value (with CHOICE value).")
@click.option("--user", "username", help=USER_HELP)
@with_appcontext
@reported
def settle_command(
    batch_id: int, mismatch_id: int, choice: str, value: str, username: str | None
) -> None:
    """Settle one mismatch of a double-entry batch: take A, B, or a corrected value."""
    from survey.services import transaction
    from survey.services.paper.double import batch_in_scope
    from survey.services.paper.double import settle
    from survey.services.paper.double import unsettled

    user = _user(username)
    batch = batch_in_scope(user, batch_id)
    found = settle(batch, mismatch_id, choice, value, user)
    transaction.commit()
    click.echo(f"#{found.id} -> {found.settled_value}；还有 {unsettled(batch)} 处未核定")


@paper_group.command("store")
@click.argument("batch_id", type=int)
@click.option("--user", "username", help=USER_HELP)
@with_appcontext
@reported
def store_command(batch_id: int, username: str | None) -> None:
    """Store a double-entry batch whose mismatches are all settled: all rows or none."""
    from survey.services import transaction
    from survey.services.paper.double import batch_in_scope
    from survey.services.paper.double import store_batch

    user = _user(username)
    bars = _Bars()
    result = store_batch(batch_in_scope(user, batch_id), user, bars)
    bars.close()
    if result.batch is None:
        _refused(result, f"survey paper store {batch_id}")
    transaction.commit()
    click.echo(f"已入库 {result.stored} 份纸质问卷（批次 {batch_id}）/ stored {result.stored}")


@paper_group.command("show")
@click.argument("batch_id", type=int)
@with_appcontext
@reported
def show_command(batch_id: int) -> None:
    """A batch: its counts, agreement rate and mismatches."""
    from survey.services.paper.double import batch_in_scope

    _show(batch_in_scope(None, batch_id))
