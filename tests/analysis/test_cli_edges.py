"""``python -m analysis`` at the edges an analyst will hit (issue 12).

Reference values: R's ``postStratify`` on data with small cells
(reference_cells/make_reference.R, R 4.2.2 and survey 4.1.1, see the first line of
small_cells_r.csv), R's finite-population correction (reference/reference.csv, case
``fpc_adjust``), and post-stratified means worked out with pandas from their definition.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis._cli import main
from analysis._intervals_design import NOTE_NO_DATA

REF = Path(__file__).parent / "reference"
CELLS = Path(__file__).parent / "reference_cells"
DATA = pd.read_csv(REF / "survey.csv")
POP = REF / "population.csv"
DESIGN = ["--strata", "district", "--psu", "point", "--weights", "weight"]
CELL_COLUMNS = ["district", "age_group", "gender"]
POSTSTRATIFIED = ["--outcome", "aware", *DESIGN, "--poststratify", POP]


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- item 1: a group without answers ---------------------------------------------------


def test_issue_command_group_without_answers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(tmp_path, "t.csv", "g,y\na,1\na,0\na,1\nb,\nb,\n")
    code, out, err = run(
        capsys, "estimate", path, "--outcome", "y", "--by", "g", "--method", "logit"
    )
    assert code == 0 and err == ""
    printed = _csv(out).set_index("g")
    assert printed.loc["b", ["estimate", "se", "ci_low", "ci_high"]].isna().all()
    assert printed.loc["b", "note"] == NOTE_NO_DATA
    assert printed.loc["a", "estimate"] == pytest.approx(2 / 3, rel=1e-15)
    # five one-row clusters, influence (1, -2, 1, 0, 0) / 9: variance 5/4 * 6/81
    assert printed.loc["a", "se"] == pytest.approx(np.sqrt(5 / 4 * 6 / 81), rel=1e-14)


# --- item 2: small post-stratification cells -------------------------------------------


def _cell(data: pd.DataFrame) -> pd.Series:
    """Label ``district/age_group/gender`` of each row."""
    return data[CELL_COLUMNS].agg("/".join, axis=1)


def _small_cells() -> pd.DataFrame:
    """survey.csv with F/18-34/m cut to 3 rows and E/60+/m to 2 (as make_reference.R)."""
    data = DATA
    for cell, keep in (("F/18-34/m", 3), ("E/60+/m", 2)):
        rows = data.index[_cell(data) == cell]
        data = data.drop(index=rows[keep:])
    return data


def _poststratified_means(data: pd.DataFrame, merge: dict[str, str]) -> pd.Series:
    """Post-stratified mean of ``aware`` by district from the definition.

    Each row's weight is ``w * N_c / sum_c w`` with ``c`` its cell, after renaming the
    cells in ``merge`` (a cell label to the label of the cell it joins).
    """
    pop = pd.read_csv(POP)
    pop_label = _cell(pop).replace(merge)
    label = _cell(data).replace(merge)
    n_pop = label.map(pop.groupby(pop_label)["N"].sum())
    w = data["weight"] * n_pop / data["weight"].groupby(label).transform("sum")
    seen = data["aware"].notna()
    num = (w * data["aware"])[seen].groupby(data["district"][seen]).sum()
    return num / w[seen].groupby(data["district"][seen]).sum()


def test_small_cells_are_merged_and_every_merge_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "small.csv"
    _small_cells().to_csv(path, index=False)
    report = tmp_path / "report.csv"
    code, out, err = run(
        capsys, "estimate", path, *POSTSTRATIFIED, "--by", "district", "--report", report
    )
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 2 and all(line.startswith("note: post-stratification") for line in lines)
    assert "district=E age_group=60+ gender=f (n 20, N 12492)" in lines[0]
    assert "district=E age_group=60+ gender=m (n 2, N 6085)" in lines[0]
    assert "district=F age_group=18-34 gender=m (n 3, N 5015)" in lines[1]
    printed = _csv(out).set_index("district")
    assert printed["note"].str.contains("2 small cell(s) merged", regex=False).all()
    assert printed["note"].str.contains("--min-cell-n 0", regex=False).all()
    expected = _poststratified_means(
        _small_cells(), {"E/60+/m": "E/60+/f", "F/18-34/m": "F/18-34/f"}
    )
    assert_allclose(printed["estimate"], expected.loc[printed.index], rtol=1e-13)
    written = pd.read_csv(report)
    merged = written[written["collapsed"].fillna("") != ""]
    assert sorted(_cell(merged)) == ["E/60+/f", "E/60+/m", "F/18-34/f", "F/18-34/m"]


def test_min_cell_n_0_gives_r_poststratify(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "small.csv"
    _small_cells().to_csv(path, index=False)
    code, out, err = run(
        capsys, "estimate", path, *POSTSTRATIFIED, "--by", "district", "--min-cell-n", "0"
    )
    assert code == 0 and err == ""
    printed = _csv(out).set_index("district")
    ref = pd.read_csv(CELLS / "small_cells_r.csv", comment="#").set_index("key")
    assert (ref["n_rows"] == len(_small_cells())).all()
    districts = printed.index
    assert_allclose(printed["estimate"], ref.loc[districts, "estimate"], rtol=1e-8)
    assert_allclose(printed["se"], ref.loc[districts, "se"], rtol=1e-8, atol=1e-12)
    assert_allclose(printed["estimate"], _poststratified_means(_small_cells(), {}), rtol=1e-13)
    # the merged answer of the previous test is a different number (0.6% in district E)
    merged = _poststratified_means(_small_cells(), {"E/60+/m": "E/60+/f"})
    assert abs(merged["E"] / ref.loc["E", "estimate"] - 1) > 1e-3
    assert not printed["note"].str.contains("post-stratification").any()


def test_a_cell_without_respondents_is_reported_with_what_r_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "empty_cell.csv"
    DATA[_cell(DATA) != "F/18-34/m"].to_csv(path, index=False)
    code, out, err = run(capsys, "estimate", path, *POSTSTRATIFIED, "--min-cell-n", "0")
    assert code == 0
    assert "gender=m (n 0, N 5015)" in err
    assert "stops at a cell without respondents" in _csv(out).loc[0, "note"]


# --- item 4: CLI gaps ------------------------------------------------------------------


def test_fpc_matches_r(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    npop = 3 * DATA.groupby("district")["point"].transform("nunique")
    path = tmp_path / "fpc.csv"
    DATA.assign(npop=npop).to_csv(path, index=False)
    argv = ["estimate", path, "--outcome", "aware", "--by", "district", *DESIGN]
    code, out, _ = run(capsys, *argv, "--fpc", "npop")
    assert code == 0
    printed = _csv(out).set_index("district")
    ref = pd.read_csv(REF / "reference.csv", keep_default_na=False)
    ref = ref[(ref.case == "fpc_adjust") & (ref.by == "district") & (ref.outcome == "aware")]
    ref = ref.pivot(index="key", columns="stat", values="value").astype(float)
    assert_allclose(printed["estimate"], ref.loc[printed.index, "estimate"], rtol=1e-8)
    assert_allclose(printed["se"], ref.loc[printed.index, "se"], rtol=1e-8, atol=1e-12)
    _, without, _ = run(capsys, *argv)
    assert (_csv(without).set_index("district")["se"].drop("F") > printed["se"].drop("F")).all()


GBK_TEXT = "区,知晓\n东城区,1\n东城区,0\n东城区,1\n西城区,1\n西城区,1\n西城区,0\n西城区,0\n"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_gbk_and_utf8_files_give_the_same_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    path = _write(tmp_path, "gbk.csv", GBK_TEXT, encoding)
    code, out, err = run(capsys, "estimate", path, "--outcome", "知晓", "--by", "区")
    assert code == 0
    printed = _csv(out).set_index("区")
    assert printed.loc["东城区", "n"] == 3 and printed.loc["西城区", "n"] == 4
    assert printed.loc["西城区", "estimate"] == 0.5
    if encoding == "gbk":
        assert (
            err == f"note: file {str(path)!r} is not UTF-8: read it as GB18030 (GBK);"
            " --encoding sets another\n"
        )
    else:
        assert err == ""


def test_explicit_encoding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write(tmp_path, "gbk.csv", GBK_TEXT, "gbk")
    code, out, err = run(capsys, "estimate", path, "--outcome", "知晓", "--encoding", "gbk")
    assert code == 0 and err == "" and _csv(out).loc[0, "n"] == 7
    code, out, err = run(capsys, "estimate", path, "--outcome", "知晓", "--encoding", "utf-8")
    assert code == 2 and out == "" and "cannot read file" in err and "as utf-8" in err
    code, out, err = run(capsys, "estimate", path, "--outcome", "知晓", "--encoding", "klingon")
    assert code == 2 and err == "error: unknown encoding 'klingon'\n"


@pytest.mark.parametrize(
    "text,message", [("g,y\n", "has a header but no data rows"), ("", "is empty")]
)
def test_empty_files_say_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, "empty.csv", text)
    code, out, err = run(capsys, "estimate", path, "--outcome", "y")
    assert code == 2 and out == ""
    assert err == f"error: file {str(path)!r} {message}\n"


def test_header_only_population_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pop = _write(tmp_path, "pop.csv", "district,age_group,gender,N\n")
    code, _, err = run(
        capsys, "estimate", REF / "survey.csv", "--outcome", "aware", "--poststratify", pop
    )
    assert code == 2 and "population file" in err and "no data rows" in err


def test_weight_error_prints_a_plain_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(tmp_path, "w.csv", "y,w\n1,2.5\n0,1\n1,0\n0,-1.5\n")
    code, out, err = run(capsys, "estimate", path, "--outcome", "y", "--weights", "w")
    assert code == 2 and out == ""
    assert err == (
        "error: weights column 'w' must be finite and > 0; 2 row(s) are not"
        " (first at row 2, counting from 0: 0.0)\n"
    )


def test_outcome_coded_1_2_is_a_mean_with_a_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(tmp_path, "codes.csv", "g,y,p\na,1,1\na,2,1\na,2,\nb,1,1\nb,2,\nb,,0\n")
    code, out, err = run(capsys, "estimate", path, "--outcome", "y", "--by", "g")
    assert code == 0
    note = (
        "outcome 'y' has only the values 1 and 2: estimated as the mean of those codes,"
        " not as a proportion; recode it to 0/1 for a proportion"
    )
    assert err == f"note: {note}\n"
    printed = _csv(out).set_index("g")
    assert (printed["note"] == note).all()
    assert printed.loc["a", "estimate"] == pytest.approx(5 / 3, rel=1e-15)
    # a design estimate carries it as well, after the estimator's own note
    code, out, err = run(capsys, "estimate", path, "--outcome", "y", "--by", "g", "--psu", "g")
    assert code == 0 and err == f"note: {note}\n"
    assert _csv(out)["note"].str.endswith(note).all()
    # asked for a mean, or a true 0/1 outcome: nothing to say
    for argv in (["--outcome", "y", "--method", "mean"], ["--outcome", "p", "--by", "g"]):
        code, out, err = run(capsys, "estimate", path, *argv)
        assert code == 0 and err == ""
        assert "recode" not in out
