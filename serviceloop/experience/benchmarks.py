"""Published external benchmarks, drawn as labelled reference lines on the experience charts.

Kept here as data, in one place, each with its source, so a chart never invents a line and a newer
benchmark replaces these rows only.

HappySignals' Global IT Experience Benchmark, Q4 2019 (published by HappySignals, the IT experience
management vendor, from their customers' end-user surveys): happiness on the −100..+100 scale and
perceived lost time per ticket, for incidents and for requests.
"""

from __future__ import annotations

from dataclasses import dataclass

HAPPYSIGNALS_Q4_2019 = "HappySignals IT benchmark, Q4 2019"
HAPPYSIGNALS_SOURCE = "HappySignals Global IT Experience Benchmark, Q4 2019 (published report)"


@dataclass(frozen=True)
class Benchmark:
    metric: str  # a metric name of experience.metrics: happiness, lost_time_mean
    ticket_type: str  # the ticket type it is about: incident, request
    value: float  # in the metric's unit (points, minutes)
    label: str
    source: str


BENCHMARKS = (
    Benchmark("happiness", "incident", 67.0, f"{HAPPYSIGNALS_Q4_2019}: incidents +67", HAPPYSIGNALS_SOURCE),
    Benchmark("happiness", "request", 76.0, f"{HAPPYSIGNALS_Q4_2019}: requests +76", HAPPYSIGNALS_SOURCE),
    # 3 h 1 min and 2 h 32 min of lost time per ticket, compared with the mean lost time per answer.
    Benchmark("lost_time_mean", "incident", 181.0, f"{HAPPYSIGNALS_Q4_2019}: incidents 3 h 1 min", HAPPYSIGNALS_SOURCE),
    Benchmark("lost_time_mean", "request", 152.0, f"{HAPPYSIGNALS_Q4_2019}: requests 2 h 32 min", HAPPYSIGNALS_SOURCE),
)


def benchmarks_for(metric: str, ticket_types: tuple[str, ...] | None = None) -> list[Benchmark]:
    """The benchmarks of a metric; with a ticket-type filter, only those of the types asked for."""
    return [
        row for row in BENCHMARKS if row.metric == metric and (ticket_types is None or row.ticket_type in ticket_types)
    ]
