"""A campus of N copies of the reference's hall, for the planner's sweep: site-wide transformers, generators and plants.

Each hall keeps the reference's own A/B UPS and busways, its CDU and CRAH loops and its
2-tier fabric; the site-wide groups (tx-a/tx-b/tx-mech, their generators, the dry-cooler
and chiller plants) serve every hall, so they grow with N. Everything is open to the
planner: GB300 and GB200 NVL72 in every hall, every group's units, the site-wide groups'
redundancy among `REDUNDANCY` (the halls' own keep the reference's), the racks deployed ignored; the mechanical transformers and
generators, which power only the cooling, are built to scale (the planner cannot size them).
"""

from __future__ import annotations

import copy
from pathlib import Path

from twin.loader import load_spec
from twin.spec import Spec

REFERENCE = Path(__file__).resolve().parent.parent / "facility_specs" / "reference-100mw-gb300.yaml"
SYSTEMS = ["gb300-nvl72", "gb200-nvl72"]
REDUNDANCY = ["N+1", "N+2", "2N"]
MECH_UNITS_PER_HALL = 2  # 3 MW units for a hall's plants and CRAHs (some 4 MW at the hottest hour), N+1 over the campus
HALL_MW = 21.0  # a full hall's design-hour facility power, roughly: 144 GB300 NVL72 racks with losses and cooling


def campus_spec(halls: int, utility_mw: float) -> Spec:
    """The campus of `halls` reference halls behind a `utility_mw` interconnect, everything open."""
    ref = load_spec(REFERENCE)
    data = ref.model_dump(mode="json", by_alias=True, exclude_unset=True)
    per_hall = {
        "ups": [g for g in data["power"]["ups"] if g["id"].endswith("-h1")],
        "distribution": [g for g in data["power"]["distribution"] if g["id"].endswith("-h1")],
        "loops": [g for g in data["cooling"]["loops"] if g["id"].endswith("-h1")],
        "fabrics": [f for f in data["network"]["fabrics"] if f["id"].endswith("-h1")],
        "halls": [h for h in data["halls"] if h["id"] == "hall-1"],
    }

    def copies(items: list[dict], n: int) -> list[dict]:
        return [_renamed(copy.deepcopy(item), n) for item in items]

    for section in ("ups", "distribution"):
        data["power"][section] = [g for n in range(1, halls + 1) for g in copies(per_hall[section], n)]
    data["cooling"]["loops"] = [g for n in range(1, halls + 1) for g in copies(per_hall["loops"], n)]
    data["network"]["fabrics"] = [f for n in range(1, halls + 1) for f in copies(per_hall["fabrics"], n)]
    data["halls"] = [h for n in range(1, halls + 1) for h in copies(per_hall["halls"], n)]
    data["deployments"] = []
    data["name"] = f"campus-{halls}-halls"
    data["site"]["utility_mw"] = utility_mw
    for sec in ("generators", "transformers"):  # the mechanical feed powers only the cooling: built to scale, not planned
        for g in data["power"][sec]:
            if g["id"].endswith("-mech"):
                g["units"] = MECH_UNITS_PER_HALL * halls + 1
    groups = [g["id"] for sec in ("generators", "transformers", "ups", "distribution") for g in data["power"][sec] if not g["id"].endswith("-mech")]
    groups += [g["id"] for sec in ("plants", "loops") for g in data["cooling"][sec]]
    site = {g["id"] for sec in ("generators", "transformers") for g in data["power"][sec]} | {g["id"] for g in data["cooling"]["plants"]}
    data["plan"] = {
        "systems": SYSTEMS,
        "keep_deployments": False,
        "equipment": [{"group": g, "redundancy": REDUNDANCY} if g in site else {"group": g} for g in groups],
    }
    spec = Spec.model_validate(data)
    spec._base_catalog, spec._path = ref._base_catalog, ref.path
    return spec


def _renamed(item: dict, n: int) -> dict:
    """hall-1's item as hall n's: every `-h1` id and `hall-1` becomes `-hN` and `hall-N`."""
    def rename(value):
        if isinstance(value, str):
            return value.replace("-h1", f"-h{n}").replace("hall-1", f"hall-{n}")
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    return {k: rename(v) for k, v in item.items()}
