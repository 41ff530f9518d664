"""The fairness bar charts as the template draws them: widths in percent and labels."""

from __future__ import annotations

from dataclasses import dataclass

from assignment.reports import common
from assignment.reports.fairness import FairnessPeriod, FairnessRow


@dataclass(frozen=True)
class Segment:
    kind: str
    label: str
    count: int
    width: float  # percent of the chart's width

    @property
    def style(self) -> str:
        return f"width: {self.width:.3f}%"


@dataclass(frozen=True)
class ChartRow:
    row: FairnessRow
    segments: list[Segment]
    others: list[tuple[str, int]]  # (label, count) of events that are not assignments
    rate_width: float | None  # percent; None without on-duty hours

    @property
    def rate_style(self) -> str:
        return f"width: {self.rate_width or 0:.3f}%"


@dataclass(frozen=True)
class Chart:
    period: FairnessPeriod
    rows: list[ChartRow]
    kinds: list[tuple[str, str]]  # (kind, label) in the legend
    team_rate_left: float | None  # where the team's rate sits on the rate bars, in percent

    @property
    def team_rate_style(self) -> str:
        return f"left: {self.team_rate_left or 0:.3f}%"


def fairness_charts(periods: list[FairnessPeriod]) -> list[Chart]:
    return [_chart(period) for period in periods]


def _chart(period: FairnessPeriod) -> Chart:
    most = max((row.assigned for row in period.rows), default=0) or 1
    fastest = max((row.per_hour or 0 for row in period.rows), default=0)
    team_rate = period.team_rate
    # The rate scale leaves room for the team's mark even when everyone is below it.
    scale = max(fastest, team_rate or 0) or 1
    rows = [
        ChartRow(
            row=row,
            segments=[
                Segment(kind, common.kind_label(kind), count, count / most * 100)
                for kind, count in row.by_kind.items()
                if count
            ],
            others=[
                (common.kind_label(kind), count) for kind, count in sorted(row.other_events.items())
            ],
            rate_width=None if row.per_hour is None else row.per_hour / scale * 100,
        )
        for row in period.rows
    ]
    return Chart(
        period=period,
        rows=rows,
        kinds=[(kind, common.kind_label(kind)) for kind in common.ASSIGNMENT_KINDS],
        team_rate_left=None if team_rate is None else team_rate / scale * 100,
    )
