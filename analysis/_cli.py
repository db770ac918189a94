"""Command line for analysts: ``python -m analysis estimate ...`` and ``sample-size ...``.

Bad input (unknown column, non-numeric outcome, weights <= 0, a population file missing
a cell, an unreadable or empty file) prints one clear ``error:`` line on stderr and exits
with status 2; nothing is printed on stdout then.

What the analyst should know about a result is printed as ``note:`` lines on stderr: every
merge of small post-stratification cells, a file read as GB18030 (GBK) because it is not
UTF-8, an outcome with two values other than 0/1 estimated as a mean. The merges and the
two-valued outcome also go into the ``note`` column of every row, since they change what
the numbers mean.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from typing import Any
from typing import Final

import numpy as np
import pandas as pd

from analysis._design import DEFAULT_LONELY_PSU
from analysis._design import LONELY_PSU_RULES
from analysis._design import SurveyDesign
from analysis._design import design_from_units
from analysis._errors import AnalysisError
from analysis._estimate import RESULT_COLUMNS
from analysis._estimate import estimate_many
from analysis._intervals_design import DESIGN_METHODS
from analysis._validation import check_columns
from analysis._validation import numeric_column
from analysis._weighting import DEFAULT_MIN_CELL_N
from analysis._weighting import poststratify
from analysis._weighting import rake
from analysis._weighting import weighting_report

__all__ = ["main"]

SIMPLE_METHODS: Final[tuple[str, ...]] = (
    "wilson",
    "clopper-pearson",
    "jeffreys",
    "agresti-coull",
    "wald",
)

#: Printed columns after the group columns: the issue's list first, then the extras.
OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "n",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "deff",
    "df",
    "n_missing",
    "n_eff",
    "note",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors with status 2 and a one-line message."""

    def error(self, message: str) -> Any:  # pragma: no cover - argparse plumbing
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


def _estimate_parser(est: argparse.ArgumentParser) -> None:
    est.add_argument("file", help="CSV file, one row per response")
    est.add_argument("--outcome", required=True, help="0/1 column (proportion) or numeric")
    est.add_argument("--by", default="", help="grouping columns, comma-separated")
    est.add_argument("--strata", help="stratum column (e.g. district)")
    est.add_argument("--psu", help="cluster column (collection point)")
    est.add_argument("--weights", help="sampling weight column")
    est.add_argument(
        "--fpc",
        metavar="COLUMN",
        help="number of clusters in the population of each stratum (finite-population"
        " correction, as R's svydesign(fpc=))",
    )
    est.add_argument("--poststratify", metavar="POP.csv", help="cell columns and a count N")
    est.add_argument(
        "--rake", metavar="MARGINS.csv", action="append", help="long file margin,level,N"
    )
    est.add_argument("--method", choices=[*SIMPLE_METHODS, *DESIGN_METHODS])
    est.add_argument("--level", type=float, default=0.95)
    est.add_argument("--lonely-psu", choices=LONELY_PSU_RULES, default=DEFAULT_LONELY_PSU)
    est.add_argument(
        "--min-cell-n",
        type=float,
        default=DEFAULT_MIN_CELL_N,
        help="post-stratification cells with fewer respondents are merged with a neighbour,"
        " and every merge is reported (default %(default)s); R's postStratify merges"
        " nothing: 0 gives its answer (only cells without respondents are merged)",
    )
    est.add_argument("--rake-maxit", type=int, default=100)
    est.add_argument("--rake-epsilon", type=float, default=1e-10)
    est.add_argument(
        "--report",
        metavar="FILE",
        help="write the weighting report (cells, counts, factors,"
        " merges) of --poststratify or --rake to FILE as CSV",
    )
    est.add_argument(
        "--encoding",
        help="encoding of the input CSV files (default: UTF-8, with or without BOM, and"
        " GB18030/GBK when the file is not UTF-8, as Excel on Chinese Windows writes it)",
    )
    est.add_argument("--format", choices=("csv", "json"), default="csv")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser("estimate", help="estimates with confidence intervals per group")
    _estimate_parser(est)
    size = sub.add_parser("sample-size", help="responses needed for a margin of error")
    size.add_argument("--margin", type=float, required=True)
    size.add_argument("--p", type=float, default=0.5)
    size.add_argument("--deff", type=float, default=1.0)
    size.add_argument("--level", type=float, default=0.95)
    size.add_argument("--format", choices=("csv", "json"), default="csv")
    return parser


def _say(message: str) -> None:
    """Print a ``note:`` line on stderr."""
    print(f"note: {message}", file=sys.stderr)


def _read_with(path: str, what: str, encoding: str) -> pd.DataFrame:
    """``pd.read_csv`` with clear errors; a decoding error is passed on to the caller."""
    try:
        frame = pd.read_csv(path, encoding=encoding)
    except UnicodeDecodeError:
        raise
    except FileNotFoundError as exc:
        raise AnalysisError(f"{what} {path!r} does not exist") from exc
    except pd.errors.EmptyDataError as exc:
        raise AnalysisError(f"{what} {path!r} is empty") from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise AnalysisError(f"cannot read {what} {path!r}: {exc}") from exc
    if len(frame) == 0:
        raise AnalysisError(f"{what} {path!r} has a header but no data rows")
    return frame


def _read_csv(path: str, what: str, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV in ``encoding``, or else as UTF-8 (BOM or not), falling back to GB18030.

    GB18030 is a superset of GBK (and of GB2312), the encoding of CSV files saved by
    Excel on Chinese Windows; the fallback is announced on stderr.
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise AnalysisError(f"unknown encoding {encoding!r}") from exc
        try:
            return _read_with(path, what, encoding)
        except UnicodeDecodeError as exc:
            raise AnalysisError(
                f"cannot read {what} {path!r} as {encoding}: byte {exc.start} ({exc.reason})"
            ) from exc
    try:
        return _read_with(path, what, "utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        frame = _read_with(path, what, "gb18030")
    except UnicodeDecodeError as exc:
        raise AnalysisError(
            f"cannot read {what} {path!r}: it is neither UTF-8 nor GBK/GB18030;"
            " give its encoding with --encoding"
        ) from exc
    _say(f"{what} {path!r} is not UTF-8: read it as GB18030 (GBK); --encoding sets another")
    return frame


def _is_proportion(values: np.ndarray[Any, np.dtype[np.float64]]) -> bool:
    seen = values[~np.isnan(values)]
    return bool(np.all((seen == 0) | (seen == 1)))


def _simple(
    data: pd.DataFrame, outcome: str, by: list[str], method: str | None, level: float
) -> pd.DataFrame:
    """Estimates without a design: Wilson (or another simple method) or a t interval."""
    values = numeric_column(data, outcome, "outcome")
    frame = pd.DataFrame({"y": values})
    for b in by:
        frame[b] = data[b].to_numpy()
    if _is_proportion(values):
        from analysis._proportions import proportion_ci  # the simple-interval module

        if by:
            grouped = frame.groupby(by, sort=True, observed=True)
            successes = grouped["y"].sum()
            n = grouped["y"].count()
            missing = grouped["y"].size() - n
        else:
            successes = pd.Series([np.nansum(values)])
            n = pd.Series([int((~np.isnan(values)).sum())])
            missing = pd.Series([int(np.isnan(values).sum())])
        res = proportion_ci(successes, n, method=method or "wilson", level=level)
        res = res.reset_index(drop=not by)
        res["n_missing"] = missing.to_numpy()
        res["deff"] = np.nan
        res["df"] = np.nan
        res["n_eff"] = res["n"].astype(float)
        return res
    if method is not None:
        raise AnalysisError(f"method {method!r} is for a 0/1 outcome; {outcome!r} has other values")
    from analysis._means import mean_ci  # the simple-interval module

    res = mean_ci(frame, "y", by or None, level=level)
    res = res.reset_index(drop=not by)
    res["deff"] = np.nan
    res["n_eff"] = res["n"].astype(float)
    return res


def _design(args: argparse.Namespace, data: pd.DataFrame) -> SurveyDesign:
    design = design_from_units(
        data,
        strata=args.strata,
        psu=args.psu,
        weights=args.weights,
        fpc=args.fpc,
        lonely_psu=args.lonely_psu,
    )
    if args.poststratify and args.rake:
        raise AnalysisError("use either --poststratify or --rake, not both")
    if args.poststratify:
        population = _read_csv(args.poststratify, "population file", args.encoding)
        design = poststratify(design, population, min_cell_n=args.min_cell_n)
    if args.rake:
        margins = pd.concat(
            [_read_csv(p, "margins file", args.encoding) for p in args.rake], ignore_index=True
        )
        design = rake(design, margins, maxit=args.rake_maxit, epsilon=args.rake_epsilon)
    return design


def _merge_notes(report: pd.DataFrame, min_cell_n: float) -> tuple[list[str], str]:
    """One line per group of merged post-stratification cells, and a note for the rows.

    ``report`` is :func:`weighting_report` of a post-stratified design: the cell columns,
    then ``N``, ``n``, ``weighted``, ``cell`` (merged group, -1 if unused), ``factor``,
    ``collapsed``. Returns no lines and an empty note when nothing was merged.
    """
    cells = list(report.columns[: report.columns.get_loc("N")])
    used = report[report["cell"] >= 0]
    sizes = used.groupby("cell")["cell"].transform("size")
    merged = used[sizes > 1]
    if merged.empty:
        return [], ""
    lines = []
    for _, members in merged.groupby("cell", sort=True):
        parts = [
            " ".join(f"{c}={row[c]}" for c in cells) + f" (n {row['n']:g}, N {row['N']:g})"
            for _, row in members.iterrows()
        ]
        lines.append(
            f"post-stratification cells merged (fewer than {min_cell_n:g} respondents, or"
            f" none): {' + '.join(parts)}"
        )
    note = (
        f"post-stratification: {len(merged) - len(lines)} small cell(s) merged into"
        f" neighbours (--min-cell-n {min_cell_n:g}; listed on stderr); R merges none"
        " (--min-cell-n 0)"
    )
    if bool((merged["n"] == 0).any()):
        note += ", and stops at a cell without respondents (partial=TRUE drops its count)"
    return lines, note


def _two_value_note(values: np.ndarray[Any, np.dtype[np.float64]], outcome: str) -> str:
    """A note when an outcome has exactly two values other than 0 and 1 (e.g. 1/2 codes)."""
    seen = values[~np.isnan(values)]
    if seen.size == 0 or _is_proportion(values):
        return ""
    low, high = float(seen.min()), float(seen.max())
    if low == high or not np.all((seen == low) | (seen == high)):
        return ""
    return (
        f"outcome {outcome!r} has only the values {low:g} and {high:g}: estimated as the mean"
        " of those codes, not as a proportion; recode it to 0/1 for a proportion"
    )


def _with_notes(result: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Append ``notes`` to the ``note`` column of every row."""
    extra = "; ".join(n for n in notes if n)
    if not extra:
        return result
    note = result["note"].fillna("").astype(str)
    result["note"] = np.where(note == "", extra, note + "; " + extra)
    return result


def estimate_command(args: argparse.Namespace) -> pd.DataFrame:
    """Run ``estimate`` and return the frame to print."""
    data = _read_csv(args.file, "file", args.encoding)
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    check_columns(data, [args.outcome, *by], "the input file")
    values = numeric_column(data, args.outcome, "outcome")
    notes = [_two_value_note(values, args.outcome) if args.method is None else ""]
    has_design = bool(
        args.strata or args.psu or args.weights or args.fpc or args.poststratify or args.rake
    )
    if args.method in SIMPLE_METHODS and has_design:
        raise AnalysisError(
            f"method {args.method!r} ignores the design; use one of {', '.join(DESIGN_METHODS)}"
        )
    if args.report and not (args.poststratify or args.rake):
        raise AnalysisError("--report needs --poststratify or --rake")
    if not has_design and args.method not in DESIGN_METHODS:
        result = _simple(data, args.outcome, by, args.method, args.level)
    else:
        design = _design(args, data)
        notes += _weighting_notes(args, design)
        result = estimate_many(design, [args.outcome], by, method=args.method, level=args.level)[0]
    if notes[0]:
        _say(notes[0])
    columns = [*by, *OUTPUT_COLUMNS]
    for column in RESULT_COLUMNS:
        if column not in result:
            result[column] = np.nan
    return _with_notes(result[columns].copy(), notes)


def _weighting_notes(args: argparse.Namespace, design: SurveyDesign) -> list[str]:
    """Report merged cells on stderr and write ``--report``; return the note for the rows."""
    report = weighting_report(design)
    if args.report:
        try:
            report.to_csv(args.report, index=False)
        except OSError as exc:
            raise AnalysisError(f"cannot write the report {args.report!r}: {exc}") from exc
    if not args.poststratify:
        return []
    lines, note = _merge_notes(report, args.min_cell_n)
    for line in lines:
        _say(line)
    return [note]


def _cell(value: object) -> object:
    """A value as printed: floats with %.17g (NaN empty/null), integers as integers."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if math.isnan(float(value)):
            return None
        if float(value).is_integer() and abs(float(value)) < 2**53:
            return int(value)
        return float(value)
    return value


def _format_float(value: float) -> str:
    return f"{value:.17g}"


def render(frame: pd.DataFrame, fmt: str) -> str:
    """Text of ``frame`` as CSV or JSON records, numbers at full precision (%.17g)."""
    float_cols = {c for c in frame.columns if pd.api.types.is_float_dtype(frame[c].dtype)}
    records = frame.to_dict(orient="records")
    if fmt == "json":
        parts = []
        for record in records:
            items = []
            for key, value in record.items():
                v = _cell(value)
                if key in float_cols and isinstance(v, int | float) and not isinstance(v, bool):
                    text = _format_float(float(v))
                else:
                    text = json.dumps(v, ensure_ascii=False)
                items.append(f"{json.dumps(str(key), ensure_ascii=False)}: {text}")
            parts.append("{" + ", ".join(items) + "}")
        return "[" + ",\n ".join(parts) + "]\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(c) for c in frame.columns])
    for record in records:
        row = []
        for key, value in record.items():
            v = _cell(value)
            if v is None:
                row.append("")
            elif key in float_cols and isinstance(v, int | float) and not isinstance(v, bool):
                row.append(_format_float(float(v)))
            else:
                row.append(str(v))
        writer.writerow(row)
    return out.getvalue()


def sample_size_command(args: argparse.Namespace) -> pd.DataFrame:
    """Run ``sample-size`` through the planning module."""
    from analysis._sample_size import sample_size  # the simple-interval module

    n = sample_size(args.margin, p=args.p, deff=args.deff, level=args.level)
    return pd.DataFrame(
        {
            "margin": [float(args.margin)],
            "p": [float(args.p)],
            "deff": [float(args.deff)],
            "level": [float(args.level)],
            "n": [int(np.asarray(n).reshape(-1)[0])],
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 on success, 2 on bad input)."""
    args = _parser().parse_args(argv)
    try:
        command = estimate_command if args.command == "estimate" else sample_size_command
        frame = command(args)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(frame, args.format))
    return 0
