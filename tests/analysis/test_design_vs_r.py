"""Design-based estimates against R's survey package (stored references, no R needed).

The references in tests/analysis/reference/ were computed by make_reference.R with
R 4.2.2 and survey 4.1.1 (see versions.txt and README.md) on data from make_data.py.
R calls, per case (domains as svyby does, ``design[rows, ]``):

* ``svyciprop(~y, sub, method="xlogit"|"beta"|"mean", na.rm=TRUE)``
* ``svymean(~y, sub, na.rm=TRUE, deff=TRUE)``; ``confint(m, df=degf(sub))``
* ``postStratify(des, ~district+age_group+gender, pop)``,
  ``rake(des, ..., control=list(maxit=1000, epsilon=1e-12))``,
  ``trimWeights(des_ps, lower=150, upper=900)``
* ``options(survey.lonely.psu = rule)`` for the lonely-PSU cases
* contrasts: ``svyrecvar`` of the two domains' ``svymean(..., influence=TRUE)``
  (calibrated designs) and ``svyglm(y ~ second, design[union, ])``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import analysis as A
from analysis._intervals_design import NOTE_EDGE
from analysis._intervals_design import NOTE_SE0

REF = Path(__file__).parent / "reference"
RTOL = 1e-8
ATOL = 1e-12  # R leaves round-off (1e-17) where the exact value is 0


def _read_reference() -> pd.DataFrame:
    ref = pd.read_csv(REF / "reference.csv", keep_default_na=False, dtype=str)
    ref["value"] = ref["value"].map(lambda s: np.nan if s in ("NA", "NaN", "") else float(s))
    ref["stat"] = ref["stat"].str.split(".").str[0]
    return ref


REFERENCE = _read_reference()
DATA = pd.read_csv(REF / "survey.csv")
POPULATION = pd.read_csv(REF / "population.csv")
MARGINS = pd.read_csv(REF / "margins.csv")


def _bounds() -> tuple[float, float]:
    b = REFERENCE[REFERENCE.case == "trim_bounds"].set_index("stat")["value"]
    return float(b["lower"]), float(b["upper"])


def make_designs(lonely_psu: str = "adjust") -> dict[str, A.SurveyDesign]:
    plain = A.design_from_units(
        DATA, strata="district", psu="point", weights="weight", lonely_psu=lonely_psu
    )
    ps = A.poststratify(plain, POPULATION)
    lower, upper = _bounds()
    return {
        "plain": plain,
        "ps": ps,
        "rake": A.rake(plain, MARGINS, maxit=1000, epsilon=1e-12),
        "trim": A.trim_weights(ps, lower=lower, upper=upper),
    }


DESIGNS = make_designs()
METHODS = {"xlogit": "logit", "beta": "beta", "mean": "mean", "svymean": "mean"}


def _ours(design: A.SurveyDesign, by: str, outcome: str, method: str) -> pd.DataFrame:
    by_list = None if by == "all" else by.split("+")
    res = A.svy_estimate(design, outcome, by_list, method=method)
    keys = ["all"] * len(res) if by_list is None else res[by_list].astype(str).agg("|".join, axis=1)
    return res.set_index(pd.Index(keys, name="key"))


def _cases() -> list[tuple[str, str, str, str]]:
    dom = REFERENCE[REFERENCE.case == "domain"]
    cases = dom[["design", "by", "outcome", "method"]].drop_duplicates()
    return [tuple(r) for r in cases.itertuples(index=False) if r.method != "logit"]


@pytest.mark.parametrize("name,column", [("ps", "w_ps"), ("rake", "w_rake"), ("trim", "w_trim")])
def test_weights_match_r(name: str, column: str) -> None:
    expected = pd.read_csv(REF / "weights.csv")[column].to_numpy()
    assert_allclose(DESIGNS[name].weight, expected, rtol=1e-12)


@pytest.mark.parametrize("design,by,outcome,method", _cases())
def test_domain_estimates_match_r(design: str, by: str, outcome: str, method: str) -> None:
    ref = REFERENCE[
        (REFERENCE.case == "domain")
        & (REFERENCE.design == design)
        & (REFERENCE.by == by)
        & (REFERENCE.outcome == outcome)
        & (REFERENCE.method == method)
    ].pivot(index="key", columns="stat", values="value")
    ours = _ours(DESIGNS[design], by, outcome, METHODS[method]).loc[ref.index]
    stats_ = [s for s in ("estimate", "se", "df", "n", "deff") if s in ref]
    for stat in stats_:
        assert_allclose(ours[stat].astype(float), ref[stat], rtol=RTOL, atol=ATOL, err_msg=stat)
    edge = ours["note"] == NOTE_EDGE
    se_zero = ours["note"] == NOTE_SE0
    regular = ~edge & ~se_zero
    for stat in ("ci_low", "ci_high"):
        assert_allclose(
            ours.loc[regular, stat], ref.loc[regular, stat], rtol=RTOL, atol=ATOL, err_msg=stat
        )
    # where we decline or replace R's interval, R's is NaN (0/1) or zero-width (SE 0)
    assert ref.loc[edge, ["ci_low", "ci_high"]].isna().all().all()
    assert (ref.loc[se_zero, "se"].abs() < 1e-12).all()
    assert ours.loc[se_zero, ["ci_low", "ci_high"]].isna().all().all()


def test_edge_domains_present_and_handled() -> None:
    """The all-0 and all-1 domains exist and get the Korn-Graubard interval with n_eff = n."""
    ours = _ours(DESIGNS["ps"], "district+channel", "participated", "logit")
    row = ours.loc["B|poster"]
    assert row["estimate"] == 0 and row["note"] == NOTE_EDGE
    n, df = row["n"], row["df"]
    n_eff = n * (stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)) ** 2
    assert row["ci_low"] == 0
    assert_allclose(row["ci_high"], stats.beta.ppf(0.975, 1, n_eff), rtol=1e-12)
    top = _ours(DESIGNS["plain"], "district+channel", "aware", "beta").loc["C|wechat"]
    assert top["estimate"] == 1 and top["ci_high"] == 1 and 0.9 < top["ci_low"] < 1


@pytest.mark.parametrize("design", ["plain", "ps", "rake", "trim"])
def test_svyby_call_matches(design: str) -> None:
    sel = REFERENCE[(REFERENCE.case == "svyby") & (REFERENCE.design == design)]
    aware = sel[sel.outcome == "aware"].pivot(index="key", columns="stat", values="value")
    ours = _ours(DESIGNS[design], "district+channel", "aware", "logit").loc[aware.index]
    assert_allclose(ours["estimate"], aware["estimate"], rtol=RTOL, atol=ATOL)
    assert_allclose(ours["se"], aware["se"], rtol=RTOL, atol=ATOL)
    finite = aware["ci_low"].notna() & (ours["note"] == "")
    assert_allclose(ours.loc[finite, "ci_low"], aware.loc[finite, "ci_low"], rtol=RTOL)
    assert_allclose(ours.loc[finite, "ci_high"], aware.loc[finite, "ci_high"], rtol=RTOL)
    score = sel[sel.outcome == "score"].pivot(index="key", columns="stat", values="value")
    ours = _ours(DESIGNS[design], "district", "score", "mean").loc[score.index]
    for stat in ("estimate", "se", "deff"):
        assert_allclose(ours[stat], score[stat], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("rule", ["certainty", "remove", "average", "adjust"])
@pytest.mark.parametrize("design", ["plain", "ps"])
def test_lonely_psu_rules_match_r(rule: str, design: str) -> None:
    designs = make_designs(rule)
    sel = REFERENCE[(REFERENCE.case == f"lonely_{rule}") & (REFERENCE.design == design)]
    checked = 0
    for (by, outcome), part in sel.groupby(["by", "outcome"]):
        ref = part.pivot(index="key", columns="stat", values="value")
        ours = _ours(designs[design], by, outcome, "mean").loc[ref.index]
        assert_allclose(ours["estimate"], ref["estimate"], rtol=RTOL)
        assert_allclose(ours["se"], ref["se"], rtol=RTOL, atol=ATOL)
        checked += len(ref)
    assert checked == 2 * (1 + 6)


def test_lonely_psu_fail_raises() -> None:
    message = REFERENCE[REFERENCE.case == "lonely_fail"]["method"].iloc[0]
    assert "only one PSU" in message  # what R says
    with pytest.raises(A.NotEstimableError, match="only one cluster"):
        A.design_from_units(
            DATA, strata="district", psu="point", weights="weight", lonely_psu="fail"
        )


CONTRASTS = {
    "week3-week1": dict(compare="week", first=1, second=3, by=None),
    "B-A": dict(compare="district", first="A", second="B", by=None),
    "A:week2-week1": dict(compare="week", first=1, second=2, by="district"),
}


@pytest.mark.parametrize("design", ["plain", "ps", "rake"])
@pytest.mark.parametrize("name", list(CONTRASTS))
def test_contrasts_match_r(design: str, name: str) -> None:
    ref = REFERENCE[
        (REFERENCE.case == "contrast") & (REFERENCE.design == design) & (REFERENCE.key == name)
    ]
    outcome = ref["outcome"].iloc[0]
    r = ref.set_index("stat")["value"]
    spec = CONTRASTS[name]
    res = A.svy_contrast(
        DESIGNS[design], outcome, spec["compare"], spec["first"], spec["second"], by=spec["by"]
    )
    row = res[res["district"] == "A"].iloc[0] if spec["by"] else res.iloc[0]
    assert_allclose(row["difference"], r["difference"], rtol=RTOL)
    assert_allclose(row["se"], r["se"], rtol=RTOL)
    assert_allclose(row["se"], r["se_glm"], rtol=RTOL)  # svyglm cross-check
    assert row["df"] == r["df"]
    for stat in ("ci_low", "ci_high", "p_value"):
        assert_allclose(row[stat], r[stat], rtol=RTOL)
    if "cov" in r:
        assert_allclose(row["cov"], r["cov"], rtol=RTOL, atol=1e-15)
        assert_allclose(row["estimate_1"], r["estimate_1"], rtol=RTOL)
        assert_allclose(row["estimate_2"], r["estimate_2"], rtol=RTOL)


@pytest.mark.parametrize("rule", ["adjust", "certainty"])
def test_finite_population_correction_matches_r(rule: str) -> None:
    npop = 3 * DATA.groupby("district")["point"].transform("nunique")
    design = A.design_from_units(
        DATA.assign(npop=npop),
        strata="district",
        psu="point",
        weights="weight",
        fpc="npop",
        lonely_psu=rule,
    )
    sel = REFERENCE[REFERENCE.case == f"fpc_{rule}"]
    assert len(sel) > 0
    for (by, outcome), part in sel.groupby(["by", "outcome"]):
        ref = part.pivot(index="key", columns="stat", values="value")
        ours = _ours(design, by, outcome, "mean").loc[ref.index]
        assert_allclose(ours["estimate"], ref["estimate"], rtol=RTOL)
        assert_allclose(ours["se"], ref["se"], rtol=RTOL, atol=ATOL)
