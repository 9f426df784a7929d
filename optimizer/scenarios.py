"""Scenario grids: a base spec, the fields to vary by dotted path, and the job to run on each.

A grid file names its base spec (relative to the grid file), a registered job, and one of

    grid:      {site.tariff.price_usd_per_mwh: [40, 70, 100], deployments[0].racks: [16, 20]}
    scenarios: [{name: hot, overrides: {site.climate.offset_c: 4}}, {name: base}]
    sample:    {n: 50, seed: 1, parameters: {site.tariff.price_usd_per_mwh: [40, 100],
                                             site.climate.preset: [temperate, hot-dry]}}

`grid` is the full cartesian product. In `sample`, a list of two numbers is a range drawn
uniformly (integers if both ends are integers), any other list is a set of choices drawn
with equal odds, and `{choices: [a, b]}` says "choices" for a pair of numbers.

Every scenario's id hashes the base spec, the job, its overrides and its seed, so a
re-run of the same grid (or a grid that shares scenarios) recognises finished work.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import numpy as np
from pydantic import AfterValidator, Field, field_validator, model_validator

from optimizer.jobs import job_names
from twin.catalog import Strict
from twin.errors import SpecError
from twin.loader import load_spec
from twin.overrides import leads_to, split_path
from twin.spec import Spec
from twin.validation import suggest, validate
from twin.yamlio import load_yaml


class UniformRange(NamedTuple):
    """Draw uniformly between `low` and `high` (integers if both are integers)."""

    low: float
    high: float


class Choices(NamedTuple):
    """Draw one of `options`, each with equal odds."""

    options: tuple[Any, ...]


def _override_path(path: str) -> str:
    split_path(path)  # raises ValueError for a path with no field in it
    return path


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


MAX_SEED = 2**63 - 1  # seeds are stored as SQLite integers
MAX_EXACT_INT = 2**53  # integers beyond this are not exact as floats, nor drawn exactly


def _sample_parameter(v: Any) -> UniformRange | Choices:
    if isinstance(v, dict) and list(v) == ["choices"] and isinstance(v["choices"], list) and v["choices"]:
        return Choices(tuple(v["choices"]))
    if isinstance(v, list) and len(v) == 2 and all(map(_is_number, v)):
        if not all(math.isfinite(x) for x in v):
            raise ValueError(f"range [{v[0]}, {v[1]}]: both ends must be finite numbers")
        if v[0] > v[1]:
            raise ValueError(f"range [{v[0]}, {v[1]}]: low is above high")
        if all(isinstance(x, int) for x in v) and max(abs(v[0]), abs(v[1])) > MAX_EXACT_INT:
            raise ValueError(f"range [{v[0]}, {v[1]}]: integer ends must be within ±2^53 ({MAX_EXACT_INT:,})")
        if not math.isfinite(float(v[1]) - float(v[0])):
            raise ValueError(f"range [{v[0]}, {v[1]}]: too wide to draw from (its width is not a finite number)")
        return UniformRange(v[0], v[1])
    if isinstance(v, list) and v:
        return Choices(tuple(v))
    raise ValueError("expected [low, high], a list of choices, or {choices: [...]}")


OverridePath = Annotated[str, AfterValidator(_override_path)]
SampleParameter = Annotated[Any, AfterValidator(_sample_parameter)]


class NamedScenario(Strict):
    """One hand-written scenario; no overrides means the base spec itself."""

    name: str = Field(min_length=1, description="Scenario name, unique in the file.")
    overrides: dict[OverridePath, Any] = Field(default_factory=dict, description="Dotted path -> value.")


class Sample(Strict):
    """A seeded random sample of the parameter space."""

    n: int = Field(gt=0, le=100_000, description="Scenarios to draw.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the draws (not of the job).")
    parameters: dict[OverridePath, SampleParameter] = Field(min_length=1, description="Dotted path -> [low, high] or choices.")


class GridFile(Strict):
    """A sweep definition as written in YAML."""

    name: str | None = Field(None, description="Sweep name for reports; default: the grid file's name.")
    description: str = Field("", description="One line about the sweep.")
    spec: str = Field(min_length=1, description="Base facility spec, relative to this file.")
    job: str = Field(description="Registered job run on every scenario.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed passed to the job: the same for every scenario (common random numbers).")
    grid: dict[OverridePath, Annotated[list[Any], Field(min_length=1)]] | None = Field(
        None, min_length=1, description="Dotted path -> values; every combination is a scenario."
    )
    scenarios: list[NamedScenario] | None = Field(None, min_length=1, description="Named scenarios.")
    sample: Sample | None = Field(None, description="A seeded random sample.")

    @field_validator("job")
    @classmethod
    def _known_job(cls, v: str) -> str:
        if v not in job_names():
            raise ValueError(f"unknown job {v!r}; registered jobs: {', '.join(job_names())}" + suggest(v, job_names()))
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> GridFile:
        given = [k for k in ("grid", "scenarios", "sample") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of grid, scenarios or sample (found {', '.join(given) or 'none'})")
        names = [s.name for s in self.scenarios or []]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"scenario names must be unique: {', '.join(dupes)}")
        return self


@dataclass(frozen=True)
class Scenario:
    """One run of the job: the base spec with these overrides, at this seed."""

    id: str
    name: str
    overrides: dict[str, Any]
    seed: int


@dataclass(frozen=True)
class Sweep:
    """A grid file resolved: the base spec loaded and every scenario listed with its id."""

    id: str
    name: str
    grid_file: str
    spec: Spec
    job: str
    mode: str
    parameters: tuple[str, ...]
    base_values: dict[str, Any]
    scenarios: tuple[Scenario, ...]


def scenario_id(spec_hash: str, job: str, overrides: dict[str, Any], seed: int) -> str:
    """A stable id: the same spec, job, overrides and seed always give the same id."""
    blob = json.dumps([spec_hash, job, sorted(overrides.items()), seed], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


DEFAULT_MAX_SCENARIOS = 10_000


def load_sweep(path: str | Path, max_scenarios: int | None = DEFAULT_MAX_SCENARIOS) -> Sweep:
    """Read a grid file and its base spec; SpecError lists every problem with file:line.

    Before any scenario is listed, the scenarios are counted (a grid above `max_scenarios`
    is refused with an estimate of its time and disk) and every override path is checked
    against the base spec, so a sweep that could never run starts nothing.
    """
    doc = load_yaml(path)
    grid = validate(doc, GridFile)
    spec_path = Path(path).parent / grid.spec
    if not spec_path.is_file():
        raise SpecError([doc.issue(("spec",), f"no such file: {spec_path}")])
    spec = load_spec(spec_path)
    mode = next(k for k in ("grid", "scenarios", "sample") if getattr(grid, k) is not None)
    count = count_scenarios(grid)
    if max_scenarios is not None and count > max_scenarios:
        from optimizer.sweep_estimate import estimate

        raise SpecError([doc.issue((mode,), f"{count:,} scenarios ({estimate(spec, grid.job, grid.seed, count)}); the limit is "
                                            f"{max_scenarios:,}: pass --max-scenarios {count} to run them all anyway")])
    check_paths(spec, doc, grid)
    spec_hash = spec.spec_hash()
    scenarios: dict[str, Scenario] = {}
    for name, overrides in _expand(grid):
        sid = scenario_id(spec_hash, grid.job, overrides, grid.seed)
        scenarios.setdefault(sid, Scenario(sid, name, overrides, grid.seed))  # a repeated draw runs once
    parameters = tuple(dict.fromkeys(p for s in scenarios.values() for p in s.overrides))
    base = spec.model_dump(mode="json", by_alias=True)
    return Sweep(
        id=hashlib.sha256(json.dumps(sorted(scenarios)).encode()).hexdigest()[:16],
        name=grid.name or Path(path).stem,
        grid_file=str(path),
        spec=spec,
        job=grid.job,
        mode=mode,
        parameters=parameters,
        base_values={p: value_at(base, p) for p in parameters},
        scenarios=tuple(scenarios.values()),
    )


def count_scenarios(grid: GridFile) -> int:
    """How many scenarios the file describes (before repeated draws merge), without listing them."""
    if grid.grid is not None:
        return math.prod(len(v) for v in grid.grid.values())
    if grid.scenarios is not None:
        return len(grid.scenarios)
    return grid.sample.n


def _first_uses(grid: GridFile) -> dict[str, tuple[tuple, Any]]:
    """Each override path once: where the grid file writes it first, and a value it takes."""
    if grid.grid is not None:
        return {p: (("grid", p), v[0]) for p, v in grid.grid.items()}
    if grid.scenarios is not None:
        uses: dict[str, tuple[tuple, Any]] = {}
        for i, sc in enumerate(grid.scenarios):
            for p, v in sc.overrides.items():
                uses.setdefault(p, (("scenarios", i, "overrides", p), v))
        return uses
    return {p: (("sample", "parameters", p), d.options[0] if isinstance(d, Choices) else d.low) for p, d in grid.sample.parameters.items()}


def check_paths(spec: Spec, doc: Any, grid: GridFile) -> None:
    """Every override path must name a field of the base spec (or an item it has): SpecError at the grid file's lines.

    A value the spec rejects is a scenario that fails, as a what-if may; a path that leads
    nowhere (a misspelt field, `halls[5]` of a one-hall spec) would fail every scenario.
    """
    from twin.overrides import apply_overrides

    issues = []
    for path, (where, value) in _first_uses(grid).items():
        try:
            apply_overrides(spec, {path: value})
        except SpecError as exc:
            wrong = [i for i in exc.issues if i.file == "<overrides>" or (i.message.startswith("unknown field") and leads_to(i.path, path))]
            issues += [doc.issue(where, f"{path} does not apply to {spec.path or spec.name}: {wrong[0].message}")] if wrong else []
    if issues:
        raise SpecError(issues)


def _expand(grid: GridFile) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, overrides) of every scenario the file describes, in file order."""
    if grid.grid is not None:
        paths = list(grid.grid)
        labels = short_labels(paths)
        for combo in itertools.product(*grid.grid.values()):
            yield ", ".join(f"{labels[p]}={_show(v)}" for p, v in zip(paths, combo, strict=True)), dict(zip(paths, combo, strict=True))
    elif grid.scenarios is not None:
        for s in grid.scenarios:
            yield s.name, dict(s.overrides)
    else:
        rng = np.random.default_rng(grid.sample.seed)
        width = len(str(grid.sample.n))
        for i in range(grid.sample.n):
            yield f"sample-{i + 1:0{width}d}", {p: _draw(rng, d) for p, d in grid.sample.parameters.items()}


def _draw(rng: np.random.Generator, dist: UniformRange | Choices) -> Any:
    if isinstance(dist, Choices):
        return dist.options[int(rng.integers(len(dist.options)))]
    if isinstance(dist.low, int) and isinstance(dist.high, int):
        return int(rng.integers(dist.low, dist.high, endpoint=True))
    return float(rng.uniform(dist.low, dist.high))


def _show(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def short_labels(paths: list[str]) -> dict[str, str]:
    """The shortest dotted suffix of each path that no other path ends with, for names."""
    out = {}
    for p in paths:
        parts = p.split(".")
        for k in range(1, len(parts) + 1):
            label = ".".join(parts[-k:])
            if not any(q != p and (q == label or q.endswith("." + label)) for q in paths):
                break
        out[p] = label
    return out


def value_at(data: Any, path: str) -> Any:
    """The value at an override path of plain spec data, or None where the path leads nowhere.

    Items picked by id follow `twin.overrides`: an item's `id`, else its `model`.
    """
    node = data
    for part in split_path(path):
        if isinstance(part, str) and part.startswith("#") and isinstance(node, list):
            node = next((i for i in node if isinstance(i, dict) and i.get("id", i.get("model")) == part[1:]), None)
        elif isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and not part.startswith("#") and isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node
