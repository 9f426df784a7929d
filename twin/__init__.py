"""AI Factory Twin: a digital twin of an AI factory (spec, graph, physics, perf, economics)."""

__version__ = "0.1.0"
