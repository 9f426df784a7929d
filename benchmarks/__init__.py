"""Benchmarks: `make bench` runs every `benchmarks/bench_*.py` and writes a Markdown table each.

A benchmark module defines `TITLE` and `run() -> list[dict]` (one row per measurement).
Speed goals live here, not in timed tests that flake on a noisy machine.
"""
