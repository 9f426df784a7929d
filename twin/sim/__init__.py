"""Simulation: a year of failures, repairs, demand spikes and grid events (`fleet`, `year`,
`montecarlo`), and requests through continuous-batching replicas (`serving`).

Failures and repairs of facility units and GPU systems are drawn in numpy, each unit an
alternating renewal (`facility_failures`, `system_failures`), as are demand spikes and grid
events (`demand_events`); SimPy runs what needs an event loop: finite repair crews shared
by every group (`facility_queue`) and the requests through replicas (`serving`). Every random draw comes from one `numpy.random.SeedSequence(seed)`, one named
stream per source (`twin.sim.rng`), so the same seed gives the same result.
"""
