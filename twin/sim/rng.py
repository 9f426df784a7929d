"""One named random stream per source, all spawned from one seed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Seed = int | np.random.SeedSequence


def seed_sequence(seed: Seed) -> np.random.SeedSequence:
    """The run's root sequence; a child sequence (a replication's) is copied so spawning from it twice repeats."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    return np.random.SeedSequence(seed)


def named_streams(seed: Seed, names: Sequence[str]) -> dict[str, np.random.Generator]:
    """A generator per name, spawned in the order given.

    Callers list every source a model may use, whether or not an option enables it, so that
    switching one source on does not move the draws of another.
    """
    if len(set(names)) != len(names):
        raise ValueError("stream names must be unique")
    children = seed_sequence(seed).spawn(len(names))
    return {name: np.random.Generator(np.random.PCG64(child)) for name, child in zip(names, children, strict=True)}
