"""One report's state: the aggregated rows of its single ``GROUP BY``, the weighted designs of
the current period (and of both periods, for changes), its targets and thresholds.

Every part of the dashboard is computed from here, so the page and the JSON API give the same
numbers for the same filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from functools import cached_property

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Target
from survey.reporting.compare import changes_by
from survey.reporting.estimates import estimates_by
from survey.reporting.estimates import within_points
from survey.reporting.filters import METRICS
from survey.reporting.filters import ReportFilter
from survey.reporting.margins import population_counts
from survey.reporting.push import expand_push_rows
from survey.reporting.push import push_channel_ids
from survey.reporting.region_index import NOTHING
from survey.reporting.region_index import RegionIndex
from survey.reporting.region_index import effective_path
from survey.reporting.results import CellMerge
from survey.reporting.results import Change
from survey.reporting.results import Estimate
from survey.reporting.results import WeightingInfo
from survey.reporting.statement import Statistics
from survey.reporting.statement import load_statistics
from survey.reporting.weighting import PeriodNames
from survey.reporting.weighting import WeightedDesign
from survey.reporting.weighting import cell_merges
from survey.reporting.weighting import weighted_design
from survey.reporting.weighting import weighting_advice


def stored_targets(bind: Session | Connection, questionnaire_id: int) -> dict[str, float]:
    """The targets set for a questionnaire, by metric."""
    rows = bind.execute(
        select(Target.metric, Target.threshold).where(Target.questionnaire_id == questionnaire_id)
    ).all()
    return {str(metric): float(threshold) for metric, threshold in rows}


@dataclass
class ReportContext:
    """Aggregated rows and designs of one report (build it with :meth:`build`)."""

    bind: Session | Connection
    flt: ReportFilter
    stats: Statistics
    population: pd.DataFrame
    targets: dict[str, float]
    min_n: int
    level: float
    push_channels: frozenset[int] = frozenset()
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        bind: Session | Connection,
        flt: ReportFilter,
        *,
        targets: dict[str, float] | None = None,
        min_n: int,
        level: float = 0.95,
    ) -> ReportContext:
        """Run the report statement and read the population and targets it needs."""
        regions = RegionIndex.load(bind)
        stats = load_statistics(bind, flt, with_previous=flt.has_period, regions=regions)
        add_groups(stats.frame, regions, flt.level)
        add_groups(stats.flagged, regions, flt.level)
        population = pd.DataFrame(columns=["stratum", "age_group", "sex", "N"])
        if flt.weighting != "none":
            strata = [int(s) for s in stats.frame["stratum"].unique() if s != 0]
            population = population_counts(bind, strata)
        if targets is None:
            targets = stored_targets(bind, flt.questionnaire_id)
        push = push_channel_ids(bind)
        return cls(bind, flt, stats, population, dict(targets), min_n, level, push)

    @property
    def regions(self) -> RegionIndex:
        return self.stats.regions

    @cached_property
    def current_frame(self) -> pd.DataFrame:
        """Rows of the filter's own period."""
        frame = self.stats.frame
        return frame[frame["period"] == 1].reset_index(drop=True)

    @cached_property
    def design_frame(self) -> pd.DataFrame:
        """Rows of the current period as the design sees them: a push response is its own
        cluster, push rows standing for ``psus`` identical one-response clusters each
        (``survey.reporting.push``)."""
        return expand_push_rows(self.current_frame, self.push_channels)

    @cached_property
    def current(self) -> WeightedDesign:
        """The weighted design of the current period."""
        return weighted_design(
            self.design_frame,
            self.flt.weighting,
            self.population,
            self.regions,
            min_cell_n=self.flt.min_cell_n,
        )

    @cached_property
    def joint(self) -> WeightedDesign | None:
        """The weighted design of both periods (each calibrated on its own), or None."""
        if not self.flt.has_period:
            return None
        return weighted_design(
            expand_push_rows(self.stats.frame, self.push_channels),
            self.flt.weighting,
            self.population,
            self.regions,
            info=False,
            min_cell_n=self.flt.min_cell_n,
        )

    @cached_property
    def weighting_info(self) -> WeightingInfo:
        """How the figures were weighted, with the merges of every period used: the current
        one, and the previous one when changes are shown (the joint design)."""
        info = self.current.info
        periods: PeriodNames = {1: ("本期", (self.flt.date_from, self.flt.date_to))}
        previous = self.flt.previous()
        if previous is not None:
            periods[0] = ("上期", (previous.date_from, previous.date_to))
        merges: list[CellMerge] = []
        joint = self.joint
        source = joint.design if joint is not None else None
        source = source if source is not None else self.current.design
        if info.applied == "poststratify" and source is not None:
            merges = cell_merges(source, self.regions, periods)
        return replace(
            info,
            merges=tuple(merges),
            collapsed=tuple(m.text for m in merges),
            advice=weighting_advice(info, merges),
        )

    @cached_property
    def current_flagged(self) -> pd.DataFrame:
        """Flagged-response counts of the current period."""
        flagged = self.stats.flagged
        return flagged[flagged["period"] == 1].reset_index(drop=True)

    def estimates(self, metric: str, by: str | None) -> dict[Hashable, Estimate]:
        """Estimates of the current period by a column of the design."""
        return self.all_estimates(by)[metric]

    def all_estimates(self, by: str | None) -> dict[str, dict[Hashable, Estimate]]:
        """Estimates of every metric by a column of the design (one ``analysis`` pass,
        cached)."""
        key = f"estimates:{by}"
        if key not in self._cache:
            design = self.current.design
            if design is None:
                self._cache[key] = {
                    m: ({None: Estimate.empty(m)} if by is None else {}) for m in METRICS
                }
            else:
                self._cache[key] = estimates_by(
                    design, METRICS, by, min_n=self.min_n, level=self.level
                )
        return self._cache[key]  # type: ignore[return-value]

    def changes(self, by: str | None) -> dict[str, dict[Hashable, Change]]:
        """Change of every metric since the previous period by a column of the design (one
        ``analysis`` pass, cached); empty without a previous period."""
        key = f"changes:{by}"
        if key not in self._cache:
            joint = self.joint
            if joint is None or joint.design is None:
                self._cache[key] = {m: {} for m in METRICS}
            else:
                self._cache[key] = changes_by(joint.design, METRICS, by, level=self.level)
        return self._cache[key]  # type: ignore[return-value]

    def point_estimates(self) -> dict[str, dict[Hashable, Estimate]]:
        """Within-point estimates of every metric (cached)."""
        if "points" not in self._cache:
            self._cache["points"] = within_points(
                self.current_frame, METRICS, min_n=self.min_n, level=self.level
            )
        return self._cache["points"]  # type: ignore[return-value]

    def level_keys(self) -> list[int]:
        """Regions at the report level inside the report's area (listed even without
        responses), then any other group keys found in the data."""
        path = effective_path(self.flt.region_path, self.flt.scope_path)
        if path == NOTHING:
            return []
        infos = self.regions.by_id.values()
        listed = sorted(
            (r for r in infos if r.level == self.flt.level and r.path.startswith(path or "")),
            key=lambda r: r.code,
        )
        keys = [r.id for r in listed]
        extra = sorted(set(self.current_frame["group"].tolist()) - set(keys))
        return keys + [int(k) for k in extra]

    def weeks(self) -> list[dt.date]:
        """Mondays of the current period (those with responses when it is open-ended)."""
        flt = self.flt
        if flt.date_from is not None and flt.date_to is not None:
            first = flt.date_from
            if flt.date_basis == "week":
                first = first + dt.timedelta(days=(7 - first.weekday()) % 7)
            else:
                first = first - dt.timedelta(days=first.weekday())
            count = max(0, (flt.date_to - first).days // 7 + 1)
            return [first + dt.timedelta(weeks=i) for i in range(count)]
        return sorted(set(self.current_frame["week_start"].tolist()))

    def kish_by(self, column: str) -> dict[Hashable, float]:
        """Kish's effective sample size of the weights within each group of ``column``."""
        design = self.current.design
        if design is None:
            return {}
        parts = (
            pd.DataFrame(
                {
                    "key": design.data[column].to_numpy(),
                    "wm": design.weight * design.rows,
                    "w2m": design.weight * design.weight * design.rows,
                }
            )
            .groupby("key", sort=False)[["wm", "w2m"]]
            .sum()
        )
        kish = parts["wm"] ** 2 / parts["w2m"]
        return {int(k) if isinstance(k, np.integer) else k: float(v) for k, v in kish.items()}


def add_groups(frame: pd.DataFrame, regions: RegionIndex, level: str) -> None:
    """Add the report group of each row: its region's ancestor at ``level``."""
    if frame.empty:
        frame["group"] = pd.Series(dtype="int64")
        return
    mapping = {int(r): regions.group_of(int(r), level) for r in frame["region_id"].unique()}
    frame["group"] = frame["region_id"].map(mapping).astype(np.int64)
