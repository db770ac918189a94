"""``python -m analysis``: output columns, full precision, exit status 2 on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

import analysis as A
from analysis._cli import main

REF = Path(__file__).parent / "reference"
SURVEY = REF / "survey.csv"
POP = REF / "population.csv"
MARGINS = REF / "margins.csv"
DATA = pd.read_csv(SURVEY)
HEAD = ["n", "estimate", "se", "ci_low", "ci_high", "deff", "df", "n_missing", "n_eff", "note"]
DESIGN = ["--strata", "district", "--psu", "point", "--weights", "weight"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def _compare(printed: pd.DataFrame, expected: pd.DataFrame, by: list[str]) -> None:
    assert list(printed.columns) == [*by, *HEAD]
    for column in ["estimate", "se", "ci_low", "ci_high", "deff", "n_eff"]:
        # %.17g round-trips: the printed numbers are exactly the computed ones
        assert_array_equal(printed[column].to_numpy(float), expected[column].to_numpy(float))
    assert_array_equal(printed["n"], expected["n"])
    assert_array_equal(printed["df"], expected["df"])


def test_design_estimate_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "estimate",
        SURVEY,
        "--outcome",
        "aware",
        "--by",
        "district,channel",
        *DESIGN,
        "--poststratify",
        POP,
    )
    assert code == 0 and err == ""
    design = A.poststratify(
        A.design_from_units(DATA, strata="district", psu="point", weights="weight"),
        pd.read_csv(POP),
    )
    expected = A.svy_estimate(design, "aware", ["district", "channel"])
    _compare(_csv(out), expected, ["district", "channel"])
    assert f",{expected['estimate'].iloc[0]:.17g}," in out.splitlines()[1]  # %.17g text


def test_design_estimate_json_rake_beta(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "estimate",
        SURVEY,
        "--outcome",
        "participated",
        "--by",
        "week",
        *DESIGN,
        "--rake",
        MARGINS,
        "--method",
        "beta",
        "--format",
        "json",
        "--level",
        "0.9",
        "--lonely-psu",
        "certainty",
    )
    assert code == 0
    printed = pd.DataFrame(json.loads(out))
    design = A.rake(
        A.design_from_units(
            DATA, strata="district", psu="point", weights="weight", lonely_psu="certainty"
        ),
        pd.read_csv(MARGINS),
    )
    expected = A.svy_estimate(design, "participated", "week", method="beta", level=0.9)
    _compare(printed, expected, ["week"])


def test_score_is_a_mean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", SURVEY, "--outcome", "score", *DESIGN)
    assert code == 0
    design = A.design_from_units(DATA, strata="district", psu="point", weights="weight")
    _compare(_csv(out), A.svy_estimate(design, "score"), [])


def test_without_design_wilson_and_t(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", SURVEY, "--outcome", "aware", "--by", "channel")
    assert code == 0
    printed = _csv(out)
    counts = DATA.groupby("channel")["aware"].agg(["sum", "count"])
    expected = A.proportion_ci(counts["sum"], counts["count"], method="wilson")
    assert_array_equal(printed["ci_low"], expected["ci_low"].to_numpy())
    assert_array_equal(
        printed["n_missing"],
        DATA.groupby("channel")["aware"].apply(lambda s: s.isna().sum()).to_numpy(),
    )
    code, out, _ = run(capsys, "estimate", SURVEY, "--outcome", "weight", "--method", "mean")
    assert code == 0  # design method without design: each row its own cluster
    t_interval = A.mean_ci(DATA, "weight")
    printed = _csv(out)
    for column in ("estimate", "se", "ci_low", "ci_high", "df"):
        # with-replacement variance of one-row clusters is s^2 / n, df = n - 1 (no missing
        # values here: with them R, and we, keep the full design's n / (n - 1) and df)
        np.testing.assert_allclose(printed[column], t_interval[column].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--outcome", "nope"], "unknown column nope"),
        (["--outcome", "aware", "--by", "street"], "unknown column street"),
        (["--outcome", "district"], "not numeric"),
        (["--outcome", "aware", "--weights", "bad_w"], "weights column 'bad_w' must be"),
        (
            ["--outcome", "aware", "--psu", "point", "--poststratify", "POPCUT"],
            "missing from the population file",
        ),
        (["--outcome", "aware", "--poststratify", "NOFILE"], "does not exist"),
        (["--outcome", "score", "--method", "logit", "--psu", "point"], "needs a 0/1 outcome"),
        (["--outcome", "aware", "--method", "wilson", "--psu", "point"], "ignores the design"),
    ],
)
def test_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    data = DATA.assign(bad_w=np.where(DATA.index == 3, 0.0, DATA.weight))
    path = tmp_path / "survey.csv"
    data.to_csv(path, index=False)
    cut = pd.read_csv(POP).iloc[1:]
    cut.to_csv(tmp_path / "pop.csv", index=False)
    argv = [str(tmp_path / "pop.csv") if a == "POPCUT" else a for a in argv]
    argv = [str(tmp_path / "none.csv") if a == "NOFILE" else a for a in argv]
    code, out, err = run(capsys, "estimate", path, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and message in err


def test_sample_size(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sample-size", "--margin", "0.03", "--p", "0.9", "--deff", "1.5")
    assert code == 0
    printed = _csv(out)
    assert printed.loc[0, "n"] == A.sample_size(0.03, p=0.9, deff=1.5, level=0.95)


def test_module_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "estimate", str(SURVEY), "--outcome", "nope"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 2 and "unknown column nope" in proc.stderr
