"""The measured serving points the model is calibrated on, and the model's prediction of each.

The fitted table ships in `facility_specs/reference/inference-calibration.csv` (copied with
its sources from the shared reference); `inference-holdout.csv` holds further published
points (the 1k/1k tables of the same InferenceX pages) that the fit never sees. Points are compared like with like: at the measured
interactivity, in the tokens the source counts (InferenceX: input + output; MLPerf and
NVIDIA NIM: output), on the replica size the source states when it states one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from twin.catalog import Catalog
from twin.perf.calibration import Calibration
from twin.perf.frontier import operating_point
from twin.spec import Serving, Sla, WorkloadModel

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "facility_specs" / "reference"
REFERENCE_CSV = REFERENCE_DIR / "inference-calibration.csv"  # the fit uses these
HOLDOUT_CSV = REFERENCE_DIR / "inference-holdout.csv"  # published points kept out of the fit, to check it
# Compare at the same interactivity only: the sources' median TTFTs include the queue of a
# fixed-concurrency benchmark's start, which the steady-state model does not have.
CALIBRATION_TTFT_S = 600.0
# Sources round TPOT to 0.1 ms and interactivity to 0.1 tok/s: compare at the slow end of that rounding.
ROUNDING = 0.005


@dataclass(frozen=True)
class ReferencePoint:
    """One measured point: a system serving a model at a concurrency, with what it achieved."""

    point: str
    source: str
    system: str
    model: str
    precision: str
    disaggregated: bool | None  # None: the source does not say (the model chooses, as `serving: auto`)
    isl: int
    osl: int
    gpus: int | None  # replica size when the source states it
    concurrency: int | None  # requests the benchmark kept in flight, when stated
    interactivity: float  # tok/s/user
    throughput_per_gpu: float  # in `tokens_counted`
    tokens_counted: str  # "total" (input + output) or "output"
    speculative: bool | None = None  # None: not stated (the model chooses)

    def workload(self) -> WorkloadModel:
        return WorkloadModel(
            model=self.model,
            precision=self.precision,
            isl=self.isl,
            osl=self.osl,
            sla=Sla(min_tokens_per_s_per_user=self.interactivity * (1 - ROUNDING), max_ttft_s=CALIBRATION_TTFT_S),
            serving=Serving(disaggregated=self.disaggregated, speculative=self.speculative),
        )


def load_points(path: Path = REFERENCE_CSV) -> list[ReferencePoint]:
    """Every row of the reference table; `same` in the source column means the row above's source."""
    points, source = [], ""
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            source = source if row["source"] == "same" else row["source"]
            points.append(ReferencePoint(
                point=row["point"],
                source=source,
                system=row["system"],
                model=row["model"],
                precision=row["precision"],
                disaggregated=row["serving"] == "disaggregated",
                isl=int(row["isl"]),
                osl=int(row["osl"]),
                gpus=int(row["gpus"]) if row["gpus"] else None,
                concurrency=int(row["concurrency"]),
                interactivity=float(row["interactivity_tok_s_user"]),
                throughput_per_gpu=float(row["throughput_tok_s_gpu"]),
                tokens_counted=row["tokens_counted"],
            ))
    return points


def limits(p: ReferencePoint, at_concurrency: bool = True) -> dict:
    """The replica the source ran: its GPU count if stated (exactly), and at most its concurrency in flight per replica."""
    return {"max_gpus": p.gpus, "min_gpus": p.gpus, "max_batch": float(p.concurrency) if at_concurrency and p.concurrency else None}


def counted(p: ReferencePoint, point) -> float:
    """A serving point's throughput per GPU in the tokens the source counts."""
    return point.total_tokens_per_s_per_gpu if p.tokens_counted == "total" else point.tokens_per_s_per_gpu


def predict(p: ReferencePoint, catalog: Catalog, cal: Calibration | None = None, at_concurrency: bool = True) -> float:
    """The model's throughput per GPU at the point's interactivity (and concurrency), counted as the source counts.

    A benchmark's highest-throughput row is usually capped by the concurrency it swept up to,
    not by the hardware; `at_concurrency=False` gives the model's free choice at that interactivity.
    """
    op = operating_point(catalog.systems[p.system], catalog.models[p.model], p.workload(), cal=cal, **limits(p, at_concurrency))
    return counted(p, op)
