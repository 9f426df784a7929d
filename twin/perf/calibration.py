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
FAMILY_KEYS = ("hbm_efficiency", "compute_efficiency", "layer_overhead_us", "moe_efficiency")
GLOBAL_KEYS = ("nvlink_latency_us", "scale_out_latency_us", "all_to_all_latency_us", "link_efficiency", "fp4_compute_factor")
FIXED_KEYS = ("usable_hbm_fraction", "max_seqs_per_rank", "prefill_pool_max_utilization", "max_gpus_per_replica")


@dataclass(frozen=True)
class FamilyEfficiency:
    """What one hardware family's serving stack achieves."""

    hbm_efficiency: float  # achieved share of datasheet HBM bandwidth in decode
    compute_efficiency: float  # achieved share of dense tensor FLOPS (prefill and decode GEMMs)
    layer_overhead_us: float  # fixed time per layer per forward pass: launches, syncs, small kernels
    moe_efficiency: float  # routed-expert grouped GEMMs relative to dense GEMMs (kernel maturity per platform)


@dataclass(frozen=True)
class Calibration:
    """Every parameter of the model that is not a datasheet or architecture figure."""

    families: dict[str, FamilyEfficiency]
    nvlink_latency_us: float  # one collective (all-reduce, all-to-all) inside the scale-up domain
    scale_out_latency_us: float  # one collective over the scale-out network
    all_to_all_latency_us: float  # MoE dispatch or combine: routing, token permutation and the wait for the slowest rank
    link_efficiency: float  # achieved share of link bandwidth for collective payloads
    fp4_compute_factor: float  # FP4 GEMMs reach this share of the efficiency FP8 ones do (scales, smaller tiles)
    usable_hbm_fraction: float  # HBM the engine may use for weights and KV cache
    max_seqs_per_rank: int  # engine cap on running sequences per attention rank
    prefill_pool_max_utilization: float  # disaggregated prefill pool is never run hotter than this
    max_gpus_per_replica: int  # largest replica considered (wide EP across the scale-out network)
    engine_concurrency: dict[str, int]  # family -> its default engine's cap on sequences per aggregated replica

    def engine_max_concurrency(self, family: str) -> int:
        """Sequences in flight one aggregated replica of `family` runs at most (its default engine's cap)."""
        try:
            return self.engine_concurrency[family]
        except KeyError:
            raise ValueError(f"no serving engine for hardware family {family!r}; known: {', '.join(sorted(self.engine_concurrency))}") from None

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
    engines = {fam: int(e["max_concurrency"]["value"]) for e in doc["engines"].values() for fam in e["families"]}
    fixed = {k: doc["serving"][k]["value"] for k in FIXED_KEYS}
    return Calibration(
        families=fams,
        **glob,
        usable_hbm_fraction=float(fixed["usable_hbm_fraction"]),
        max_seqs_per_rank=int(fixed["max_seqs_per_rank"]),
        prefill_pool_max_utilization=float(fixed["prefill_pool_max_utilization"]),
        max_gpus_per_replica=int(fixed["max_gpus_per_replica"]),
        engine_concurrency=engines,
    )


@cache
def shipped_calibration() -> Calibration:
    """The calibration that ships with the twin."""
    return from_document(read_document())
