"""Simulation: a year of failures, repairs, demand spikes and grid events (`fleet`, `year`,
`montecarlo`), and requests through continuous-batching replicas (`serving`).

Both are SimPy models: one process per behaviour, failures as interrupts, repair crews as
resources. Every random draw comes from one `numpy.random.SeedSequence(seed)`, one named
stream per source (`twin.sim.rng`), so the same seed gives the same result.
"""
