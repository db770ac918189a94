"""Command line for analysts: ``python -m analysis estimate ...`` and ``sample-size ...``.

Bad input (unknown column, non-numeric outcome, weights <= 0, a population file missing
a cell, an unreadable file) prints one clear ``error:`` line on stderr and exits with
status 2; nothing is printed on stdout then.
"""

from __future__ import annotations

import argparse
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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser("estimate", help="estimates with confidence intervals per group")
    est.add_argument("file", help="CSV file, one row per response")
    est.add_argument("--outcome", required=True, help="0/1 column (proportion) or numeric")
    est.add_argument("--by", default="", help="grouping columns, comma-separated")
    est.add_argument("--strata", help="stratum column (e.g. district)")
    est.add_argument("--psu", help="cluster column (collection point)")
    est.add_argument("--weights", help="sampling weight column")
    est.add_argument("--poststratify", metavar="POP.csv", help="cell columns and a count N")
    est.add_argument(
        "--rake", metavar="MARGINS.csv", action="append", help="long file margin,level,N"
    )
    est.add_argument("--method", choices=[*SIMPLE_METHODS, *DESIGN_METHODS])
    est.add_argument("--level", type=float, default=0.95)
    est.add_argument("--lonely-psu", choices=LONELY_PSU_RULES, default=DEFAULT_LONELY_PSU)
    est.add_argument("--min-cell-n", type=float, default=DEFAULT_MIN_CELL_N)
    est.add_argument("--rake-maxit", type=int, default=100)
    est.add_argument("--rake-epsilon", type=float, default=1e-10)
    est.add_argument("--format", choices=("csv", "json"), default="csv")
    size = sub.add_parser("sample-size", help="responses needed for a margin of error")
    size.add_argument("--margin", type=float, required=True)
    size.add_argument("--p", type=float, default=0.5)
    size.add_argument("--deff", type=float, default=1.0)
    size.add_argument("--level", type=float, default=0.95)
    size.add_argument("--format", choices=("csv", "json"), default="csv")
    return parser


def _read_csv(path: str, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError as exc:
        raise AnalysisError(f"{what} {path!r} does not exist") from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise AnalysisError(f"cannot read {what} {path!r}: {exc}") from exc


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
        lonely_psu=args.lonely_psu,
    )
    if args.poststratify and args.rake:
        raise AnalysisError("use either --poststratify or --rake, not both")
    if args.poststratify:
        population = _read_csv(args.poststratify, "population file")
        design = poststratify(design, population, min_cell_n=args.min_cell_n)
    if args.rake:
        margins = pd.concat([_read_csv(p, "margins file") for p in args.rake], ignore_index=True)
        design = rake(design, margins, maxit=args.rake_maxit, epsilon=args.rake_epsilon)
    return design


def estimate_command(args: argparse.Namespace) -> pd.DataFrame:
    """Run ``estimate`` and return the frame to print."""
    data = _read_csv(args.file, "file")
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    check_columns(data, [args.outcome, *by], "the input file")
    numeric_column(data, args.outcome, "outcome")
    has_design = bool(args.strata or args.psu or args.weights or args.poststratify or args.rake)
    if args.method in SIMPLE_METHODS and has_design:
        raise AnalysisError(
            f"method {args.method!r} ignores the design; use one of {', '.join(DESIGN_METHODS)}"
        )
    if not has_design and args.method not in DESIGN_METHODS:
        result = _simple(data, args.outcome, by, args.method, args.level)
    else:
        design = _design(args, data)
        result = estimate_many(design, [args.outcome], by, method=args.method, level=args.level)[0]
    columns = [*by, *OUTPUT_COLUMNS]
    for column in RESULT_COLUMNS:
        if column not in result:
            result[column] = np.nan
    return result[columns]


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
