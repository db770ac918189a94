"""``survey cells rebuild``: recompute ``report_cells`` and ``answer_cells`` from the stored
responses (the database triggers keep them; this is the repair)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.cli.errors import reported


@click.group("cells")
def cells_group() -> None:
    """The report and answer cells the database keeps for reports."""


@cells_group.command("rebuild")
@with_appcontext
@reported
def cells_rebuild() -> None:
    """Empty report_cells and answer_cells and fill them from the responses and answers."""
    from survey.extensions import db
    from survey.reporting.cell_rebuild import rebuild_cells
    from survey.services import transaction

    rebuilt = rebuild_cells(db.session.connection())
    transaction.commit()
    click.echo(
        f"已重建：报表单元 {rebuilt.report_cells:,d} 个，答案单元 {rebuilt.answer_cells:,d} 个"
        f" / rebuilt {rebuilt.report_cells:,d} report cells, {rebuilt.answer_cells:,d} answer cells"
    )
