"""Answer counts per report cell and option, kept by the database itself.

**Who keeps this table:** database triggers created by migration 0011 (redefined by 0018)
(``migrations/versions/0011_answer_cells.py``), on both SQLite and PostgreSQL:

* on ``answers``: an insert adds 1 to its option's cell and changes the question's
  correction row (below) by [first answer of the response to the question] - [has an
  option value], written only when that is not 0; a delete undoes both; an update of
  ``value`` moves the count to the new option (row triggers ``answer_cells_insert``,
  ``_delete``, ``_update``; on PostgreSQL the first two fire BEFORE the row changes, so that
  a multi-row statement sees a response's first and last answer to a question once);
* on ``responses``: a change of any key column (flag review that sets or clears the
  ``EXCLUDED`` bit, the integrity sweep, a moved point) moves every answer of the response
  from the old cell to the new one (``answer_cells_response_update``), and a delete takes
  them away before the answers go (``answer_cells_response_delete``).

On PostgreSQL the trigger functions run with ``enable_seqscan = off`` (migration 0017): their
plans are made once per session, and on a new database, whose ``answers`` was analysed
empty, they scanned every answer for each one written (a long import grew with the square
of its rows); now they seek ``ix_answers_response_question`` whatever the statistics say.

No application code writes it, except ``survey cells rebuild``
(:mod:`survey.reporting.cell_rebuild`), which recomputes it with one ``GROUP BY`` over the
answers. Tests:
``tests/survey/reporting/test_answer_cells.py`` (rebuild == incremental == ``GROUP BY`` over
the raw answers, on both databases, including a review that flips the exclusion bit).

The key is ``report_cells``' key (questionnaire, week, district, point, region, channel, age
group, sex, source, exclusion bit, version) plus the question and the option value:

* ``value`` = an option's value: ``n`` is the number of answer rows with that value, which is
  the number of respondents who chose it (a single-choice answer is one row, a multiple-choice
  answer one row per ticked option);
* ``value`` = ``''`` (:data:`QUESTION_ROW`): ``n`` is the *correction*, the respondents
  who answered the question minus its answer rows with an option value (migration 0018), so
  that the respondents who answered a question are the sum of ``n`` over all its rows in
  the cell. It is 0 for a single-choice question (no row is written), negative for a
  multiple-choice question (minus the ticks beyond each respondent's first), the number of
  respondents for free text and numbers.

Answers without a value (free text, numbers) only count in the correction row. Missing keys are
stored as in ``report_cells`` (0 and ``''``). Cells whose count falls to 0 stay. An update of
an answer's ``question_key`` or ``response_id`` (nothing in the application does that) is not
followed: run ``survey cells rebuild`` after such a repair.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from survey.models.base import Base
from survey.models.report_cell import CELL_KEYS
from survey.models.report_cell import CellKey

#: The key columns, in primary-key order: the report cell's, then question and option.
ANSWER_CELL_KEYS: tuple[str, ...] = (*CELL_KEYS, "question_key", "value")
#: ``value`` of the row that counts the respondents who answered a question.
QUESTION_ROW = ""


class AnswerCell(CellKey, Base):
    """The number of answers with one value (or of respondents, ``value = ''``) per cell."""

    __tablename__ = "answer_cells"
    __table_args__ = ({"sqlite_with_rowid": False},)

    question_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
