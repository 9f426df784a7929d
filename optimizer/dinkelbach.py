r"""Dinkelbach's method for a least cost per token: one loop for the one-year plan and the roadmap.

A cost per token is a ratio $C(x)/T(x)$. Dinkelbach solves it exactly as a short sequence
of MILPs $F(\lambda) = \min C - \lambda T$: each step lowers $\lambda$ to the ratio of the
plan it found, and the ratio is optimal once a step proves $F(\lambda) \ge 0$, whatever
the start. A step only has to find a plan that beats the price to make progress, so it
stops within `STEP_REL_GAP` of F; once a step finds none, it is solved again to the
tolerance: an absolute gap of `rel_gap` times the best plan's cost, since F is near 0 at
the end and a relative gap of F means nothing. The plan is optimal when that proof holds,
$F(\lambda) \ge -$tolerance.

The caller owns the model: `set_price` sets its objective at a price, `read` returns
the loaded plan (and may settle its values first). HiGHS sometimes ends a step on a
numerical error (a row off by a hair after unscaling a model whose coefficients span
fifteen orders of magnitude); that step is solved again once with another random seed
before the loop gives up on a proof.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import pyomo.environ as pyo

from optimizer.highs import Infeasible, MilpResult, SolveError, solve_model
from optimizer.solution import DinkelbachStep, Status

MAX_DINKELBACH_STEPS = 30
# A step needs only a plan that beats the price; the last step alone must prove F >= 0.
STEP_REL_GAP = 0.25
RETRY_SEED = 7  # HiGHS's random seed for the one retry of a step that ended on a numerical error

P = TypeVar("P")


@dataclass(frozen=True)
class Incumbent(Generic[P]):
    """A plan found by a step, with its cost and tokens in the units of the objective."""

    plan: P
    cost: float
    tokens: float

    @property
    def price(self) -> float:
        return self.cost / self.tokens if self.tokens > 0 else math.inf


@dataclass(frozen=True)
class DinkelbachRun(Generic[P]):
    """How the loop ended: the best plan, its proof, its steps."""

    best: Incumbent[P]
    status: Status  # optimal: F >= -tolerance proven; time-limit: the time ran out first; not-proven: steps or HiGHS ran out
    gap: float  # no plan beats the best price by more than this share of the best plan's cost (inf: no step proved anything)
    steps: tuple[DinkelbachStep, ...]
    solve_time_s: float


def dinkelbach(
    m: pyo.ConcreteModel,
    start: Incumbent[P],
    *,
    set_price: Callable[[float], None],
    read: Callable[[], Incumbent[P]],
    deadline: float,
    rel_gap: float,
) -> DinkelbachRun[P]:
    r"""$\lambda_{k+1} = C(x_k)/T(x_k)$ from `start` until a step proves $F(\lambda_k) \ge -$tolerance or the time runs out."""
    best, status, steps, spent, bound, proving = start, "not-proven", [], 0.0, -math.inf, False
    for _ in range(MAX_DINKELBACH_STEPS):
        set_price(best.price)
        tolerance = max(rel_gap * best.cost, 1e-6)
        progress = tolerance / 2 if proving else tolerance  # a proof within tolerance/2 of an F >= -tolerance/2
        try:
            step = _step(m, deadline, rel_gap if proving else STEP_REL_GAP, progress)
        except SolveError:  # out of time, or HiGHS failed twice: the best so far stands
            status = "time-limit" if time.monotonic() >= deadline else "not-proven"
            break
        found = read()
        steps.append(DinkelbachStep(best.price, step.objective, step.solve_time_s, step.gap(scale=best.cost)))
        spent += step.solve_time_s
        bound = step.bound
        if found.tokens > 0 and found.price < best.price:
            best = found
        if step.status != "optimal":
            status = step.status
            break
        if step.objective < -progress:
            proving = False
        elif step.bound >= -tolerance:
            status = "optimal"
            break
        else:
            proving = True
    gap = max(0.0, -bound) / best.cost if steps and best.cost > 0 else math.inf
    return DinkelbachRun(best, status, gap, tuple(steps), spent)


def _step(m: pyo.ConcreteModel, deadline: float, rel_gap: float, abs_gap: float) -> MilpResult:
    """One parametric MILP; again with another seed if HiGHS ended it on an error with time left."""
    try:
        return solve_model(m, time_limit_s=_left(deadline), rel_gap=rel_gap, abs_gap=abs_gap)
    except SolveError as exc:
        if time.monotonic() >= deadline or isinstance(exc, Infeasible):
            raise
        return solve_model(m, time_limit_s=_left(deadline), rel_gap=rel_gap, abs_gap=abs_gap, seed=RETRY_SEED)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.01)
