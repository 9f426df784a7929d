"""Run the benchmarks (all, or those named on the command line) and write their tables."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

OUT = Path("bench-results")


def markdown(rows: list[dict]) -> str:
    """A Markdown table of `rows` (the keys of the first row are the columns)."""
    if not rows:
        return "(no rows)\n"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def main(names: list[str]) -> int:
    import benchmarks

    OUT.mkdir(exist_ok=True)
    mods = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    if names:
        mods = [m for m in mods if any(n in m for n in names)]
    for name in mods:
        mod = importlib.import_module(f"benchmarks.{name}")
        t0 = time.perf_counter()
        rows = mod.run()
        text = f"## {mod.TITLE}\n\n{markdown(rows)}\n(wall time of the benchmark: {time.perf_counter() - t0:.1f} s)\n"
        (OUT / f"{name.removeprefix('bench_')}.md").write_text(text)
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
