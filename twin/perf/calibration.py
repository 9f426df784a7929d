"""Calibrated efficiency factors of the token production model, read from `calibration.yaml`.

A bare roofline overstates serving several times; these few named factors (achieved
bandwidth and compute per hardware family, fixed latency per layer, collective latency
and link efficiency) bring it to what the serving stacks measure. `python -m twin.perf.fit`
refits their `value`s; each keeps its `default` (the prior before fitting) and `source`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")
FAMILY_KEYS = ("hbm_efficiency", "compute_efficiency", "layer_overhead_us")
GLOBAL_KEYS = ("nvlink_latency_us", "scale_out_latency_us", "link_efficiency")
FIXED_KEYS = ("usable_hbm_fraction", "max_seqs_per_rank", "prefill_pool_max_utilization", "max_gpus_per_replica")


@dataclass(frozen=True)
class FamilyEfficiency:
    """What one hardware family's serving stack achieves."""

    hbm_efficiency: float  # achieved share of datasheet HBM bandwidth in decode
    compute_efficiency: float  # achieved share of dense tensor FLOPS (prefill and decode GEMMs)
    layer_overhead_us: float  # fixed time per layer per forward pass: launches, syncs, small kernels


@dataclass(frozen=True)
class Calibration:
    """Every parameter of the model that is not a datasheet or architecture figure."""

    families: dict[str, FamilyEfficiency]
    nvlink_latency_us: float  # one collective (all-reduce, all-to-all) inside the scale-up domain
    scale_out_latency_us: float  # one collective over the scale-out network
    link_efficiency: float  # achieved share of link bandwidth for collective payloads
    usable_hbm_fraction: float  # HBM the engine may use for weights and KV cache
    max_seqs_per_rank: int  # engine cap on running sequences per attention rank
    prefill_pool_max_utilization: float  # disaggregated prefill pool is never run hotter than this
    max_gpus_per_replica: int  # largest replica considered (wide EP across the scale-out network)

    def family(self, name: str) -> FamilyEfficiency:
        try:
            return self.families[name]
        except KeyError:
            raise ValueError(f"no calibration for hardware family {name!r}; known: {', '.join(sorted(self.families))}") from None


def read_document(path: Path = CALIBRATION_FILE) -> dict:
    """The raw YAML document (values with their defaults, bounds and sources)."""
    return yaml.safe_load(Path(path).read_text())


def from_document(doc: dict) -> Calibration:
    """Build a `Calibration` from the YAML document's `value` fields."""
    fams = {
        name: FamilyEfficiency(**{k: float(params[k]["value"]) for k in FAMILY_KEYS})
        for name, params in doc["families"].items()
    }
    glob = {k: float(doc["parallelism"][k]["value"]) for k in GLOBAL_KEYS}
    fixed = {k: doc["serving"][k]["value"] for k in FIXED_KEYS}
    return Calibration(
        families=fams,
        **glob,
        usable_hbm_fraction=float(fixed["usable_hbm_fraction"]),
        max_seqs_per_rank=int(fixed["max_seqs_per_rank"]),
        prefill_pool_max_utilization=float(fixed["prefill_pool_max_utilization"]),
        max_gpus_per_replica=int(fixed["max_gpus_per_replica"]),
    )


@cache
def shipped_calibration() -> Calibration:
    """The calibration that ships with the twin."""
    return from_document(read_document())
