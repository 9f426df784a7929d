"""Token production: how many output tokens a GPU system serves for a model, how fast, at what power.

`operating_point(system, model, workload_model)` is the figure the rest of the twin uses as
a rack's production rate; `frontier` is the curve it lies on; `decode_step_time` and
`prefill_time` drive the serving simulation. See DESIGN.md, "Perf".
"""

from twin.perf.frontier import decode_step_time, frontier, operating_point, prefill_time
from twin.perf.points import OperatingPoint, PerfError, ServingPoint

__all__ = [
    "OperatingPoint",
    "PerfError",
    "ServingPoint",
    "decode_step_time",
    "frontier",
    "operating_point",
    "prefill_time",
]
