"""The 150 published serving points of `inference-published.csv`, read as reference points.

The table keeps each source's wording (precision "NVFP4", serving "aggregated, single
non-disaggregated node; no MTP/EAGLE", tokens "unknown"), so reading it takes a few rules,
all here: a row is used when its system and model are in the catalog and it states a
precision, ISL, OSL, interactivity and throughput (a throughput without interactivity
cannot be compared at the point's own interactivity). Every row is from InferenceX, whose
`tput_per_gpu` counts input plus output tokens (its issue #293), so rows of unknown tokens
count as total. INT4 weight-only checkpoints are served as 4-bit weights (fp4 here).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from twin.catalog import Catalog
from twin.perf.reference import REFERENCE_DIR, ReferencePoint

PUBLISHED_CSV = REFERENCE_DIR / "inference-published.csv"
# Published names of models the catalog ships under another id (same text architecture).
MODEL_ALIASES = {"kimi-k2.5": "kimi-k2"}
PRECISIONS = (("fp4", "fp4"), ("int4", "int4"), ("fp8", "fp8"), ("bf16", "bf16"))


def _tokens(text: str) -> int | None:
    """'8192' -> 8192, '1k' -> 1024, '128K' -> 131072; None if not a length."""
    m = re.fullmatch(r"\s*(\d+)\s*([kK]?)\s*", text)
    if not m:
        return None
    return int(m.group(1)) * (1024 if m.group(2) else 1)


def _number(text: str) -> float | None:
    m = re.match(r"\s*([\d.]+)", text.replace(",", ""))
    return float(m.group(1)) if m else None


def _replica_gpus(text: str) -> int | None:
    """GPUs of one replica: the tensor-parallel width where stated ('16 (TP 4 / EP 4 decode ...)' -> 4), else the count."""
    tp = re.search(r"TP\s*=?\s*(\d+)", text)
    if tp:
        return int(tp.group(1))
    n = _number(text)
    return int(n) if n else None


def _precision(text: str) -> str | None:
    low = text.lower()
    for key, precision in PRECISIONS:
        if key in low and "mixed" not in low:
            return precision
    return None


def _disaggregated(text: str) -> bool | None:
    low = text.lower()
    if "non-disagg" in low or "no disagg" in low or "aggregated serving" in low or low.startswith("aggregated"):
        return False
    if "disagg" in low:
        return True
    return None


def _speculative(text: str) -> bool | None:
    low = text.lower()
    if "mtp on" in low:
        return True
    if "no mtp" in low or "mtp not stated" in low or "single-token prediction" in low:
        return False  # InferenceX labels its MTP runs; a sweep not labelled so ran without
    return None


def _model(text: str) -> str:
    name = text.split()[0].split("/")[0] if text.strip() else ""
    return MODEL_ALIASES.get(name, name)


def _row_point(row: dict, catalog: Catalog) -> ReferencePoint | None:
    model, precision = _model(row["model"]), _precision(row["precision"])
    isl, osl = _tokens(row["isl"]), _tokens(row["osl"])
    inter, tput = _number(row["interactivity_tok_s_user"]), _number(row["throughput_tok_s_gpu"])
    if (row["system"] not in catalog.systems or model not in catalog.models or None in (precision, isl, osl, inter, tput)
            or precision not in catalog.models[model].precisions):
        return None
    gpus = _replica_gpus(row["gpus"])
    return ReferencePoint(
        point=row["point"],
        source=row["source_file"],
        system=row["system"],
        model=model,
        precision=precision,
        disaggregated=_disaggregated(row["serving"]),
        isl=isl,
        osl=osl,
        gpus=gpus,
        concurrency=int(row["concurrency"]) if row["concurrency"].strip().isdigit() else None,
        interactivity=inter,
        throughput_per_gpu=tput,
        tokens_counted="output" if row["tokens_counted"].lower().startswith("output") else "total",
        speculative=_speculative(row["serving"]),
    )


def load_published(catalog: Catalog, path: Path = PUBLISHED_CSV) -> list[ReferencePoint]:
    """The rows of the published table the model can be compared on (see the module docstring)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [p for p in (_row_point(r, catalog) for r in rows) if p is not None]
