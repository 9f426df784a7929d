"""Planning on top of the twin: the optimizer, batch sweeps, the results store and the CLI."""
