"""Least-squares correction factors with standard errors, fitted on the current regime only.

A factor is the slope through the origin of measured against predicted, `y = f x`:
`f = sum(x y) / sum(x^2)`, with standard error `sqrt(s^2 / sum(x^2))`, `s^2` the residual
variance. An offset (PUE) is the mean of measured minus predicted, with `std / sqrt(n)`.
When the measured-over-predicted ratio shifts during the period (a hall starts to
under-deliver), the shift is found as the single split that best explains the ratio by
two means (least squares), and kept when the means differ by more than `MIN_SHIFT` and
`SHIFT_SE` standard errors; the factor is then fitted on the data since the shift, the
behaviour the twin should carry forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SHIFT = 0.01  # relative change of the ratio below which no regime change is reported
SHIFT_SE = 6.0  # ... nor below this many standard errors of the difference of the two means
MIN_SEGMENT = 4  # bins on each side of a split


@dataclass(frozen=True)
class Fit:
    """A fitted factor (or offset), its standard error, the bins used and where the current regime starts."""

    value: float
    se: float
    n: int
    start: int  # first bin of the fitted regime (0 without a shift)
    before: float | None  # the ratio (or offset) before the shift, when one was found

    @property
    def shifted(self) -> bool:
        return self.before is not None


def regime_start(r: np.ndarray) -> tuple[int, float | None]:
    """The first bin of the last regime of `r` and the mean before it (0, None when `r` does not shift)."""
    n = r.size
    if n < 2 * MIN_SEGMENT:
        return 0, None
    c1, c2 = np.cumsum(r), np.cumsum(r * r)
    k = np.arange(MIN_SEGMENT, n - MIN_SEGMENT + 1)
    left = c2[k - 1] - c1[k - 1] ** 2 / k
    right = (c2[-1] - c2[k - 1]) - (c1[-1] - c1[k - 1]) ** 2 / (n - k)
    best = int(k[np.argmin(left + right)])
    a, b = r[:best], r[best:]
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    diff = abs(b.mean() - a.mean())
    if diff > MIN_SHIFT * abs(a.mean()) and diff > SHIFT_SE * se:
        return best, float(a.mean())
    return 0, None


def fit_factor(x: np.ndarray, y: np.ndarray) -> Fit | None:
    """`y = f x` through the origin on the bins where both are finite and x > 0; None with fewer than 3 bins."""
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    x, y = x[ok], y[ok]
    if x.size < 3:
        return None
    start, before = regime_start(y / x)
    x, y = x[start:], y[start:]
    f = float(x @ y / (x @ x))
    s2 = float(((y - f * x) ** 2).sum() / max(x.size - 1, 1))
    return Fit(f, float(np.sqrt(s2 / (x @ x))), int(x.size), int(np.flatnonzero(ok)[start]), before)


def fit_offset(d: np.ndarray) -> Fit | None:
    """The mean of `d` over its current regime, with its standard error; None with fewer than 3 finite values."""
    ok = np.isfinite(d)
    v = d[ok]
    if v.size < 3:
        return None
    start, before = regime_start(v)
    v = v[start:]
    return Fit(float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)), int(v.size), int(np.flatnonzero(ok)[start]), before)
