"""Grid flexibility: shed facility power on request by idling GPUs under a stated policy.

A grid event asks for `X` MW less facility power than the site would draw in those hours.
The site idles busy GPUs (their systems stay on at idle power, so the idle draw is the floor
of what can be shed) by one parameter `z` in [0, 1]:

- `proportional`: every stream keeps `1 - z` of its busy GPUs;
- `lowest-value-first`: streams are idled one after another, fewest output tokens per kW of
  serving power first, so the site gives up the fewest tokens per MW shed.

Facility power falls as `z` rises, so bisection on `z`, vectorized over the event hours and
run through the same hourly power model as the year (`twin.energy.hourly_power`), finds the
least shedding that meets the request; a request beyond the idle floor sheds all it can.
"""

from __future__ import annotations

import numpy as np

from twin.energy import hourly_power
from twin.evaluate import _stream_power_utilization
from twin.network import network
from twin.production import Stream
from twin.sim.options import GridEvent, ShedPolicy
from twin.spec import Spec
from twin.weather import Weather

BISECTIONS = 30  # z to 1e-9


def requested_kw(events: tuple[GridEvent, ...], hours: int) -> np.ndarray:
    """Facility kW each hour's grid events ask to shed (overlapping events add)."""
    out = np.zeros(hours)
    for ev in events:
        out[min(ev.start_h, hours):min(ev.start_h + ev.hours, hours)] += ev.shed_mw * 1000.0
    return out


def _tokens_per_kw(spec: Spec, s: Stream) -> float:
    system = spec.cat.systems[s.system]
    return s.point.tokens_per_s_per_gpu * system.gpus_per_system / max(s.point.system_power_kw - system.idle_kw, 1e-9)


def _keep(spec: Spec, ss: list[Stream], policy: ShedPolicy, z: np.ndarray) -> np.ndarray:
    """Share of each stream's busy GPUs kept, (streams, hours), when shedding `z` (hours,)."""
    if policy == "proportional":
        return np.broadcast_to(1.0 - z, (len(ss), z.size))
    rank = np.argsort(np.argsort([_tokens_per_kw(spec, s) for s in ss], kind="stable"), kind="stable")
    return 1.0 - np.clip(z[None, :] * len(ss) - rank[:, None], 0.0, 1.0)


def shed_busy(spec: Spec, ss: list[Stream], weather: Weather, busy: np.ndarray, events: tuple[GridEvent, ...],
              policy: ShedPolicy) -> np.ndarray:
    """Busy shares after shedding what `events` ask for (`busy` where no event runs)."""
    ask = requested_kw(events, busy.shape[1])
    hours = np.flatnonzero(ask > 0)
    if hours.size == 0:
        return busy
    sub = Weather(weather.dry_bulb_c[hours], weather.wet_bulb_c[hours], weather.source)
    net_kw = network(spec).power_kw
    b = busy[:, hours]

    def facility_kw(z: np.ndarray) -> np.ndarray:
        return hourly_power(spec, _stream_power_utilization(spec, ss, b * _keep(spec, ss, policy, z)), sub, net_kw).facility_kw

    target = facility_kw(np.zeros(hours.size)) - ask[hours]
    lo, hi = np.zeros(hours.size), np.ones(hours.size)
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2.0
        enough = facility_kw(mid) <= target
        lo, hi = np.where(enough, lo, mid), np.where(enough, mid, hi)
    out = busy.copy()
    out[:, hours] = b * _keep(spec, ss, policy, hi)
    return out
