"""Telemetry in: what a running factory measures, read, mapped onto the twin and fitted against it.

`read_telemetry` reads Prometheus text exposition / OpenMetrics scrape files, Prometheus
`query_range` JSON answers and facility meter tables into one `Telemetry`; `mapping`
attributes series to deployments, halls and tenants; `rates` turns counters into rates as
Prometheus does; `calibrate` fits the twin's correction factors (`overlay`); `synth` writes
synthetic telemetry with injected faults so the loop can be tried end to end. Pure
computation: nothing here prints.
"""
