"""The sampler reads the state counts (whole-table queries) once a minute, not every round."""

import asyncio
from typing import Any

from eventkit.metrics import Sampler, StateCount


async def test_the_state_counts_are_read_on_the_first_round_and_then_once_per_their_interval() -> None:
    reads: list[int] = []

    async def probes_by_parity(_: Any) -> list[tuple[str, float]]:
        reads.append(1)
        return [("even", 2.0)]

    counts = [StateCount("tsunagu_test_sampler_rounds", "Probes by parity", "parity", probes_by_parity)]
    sampler = Sampler("sampler-rounds", pool=None, counts=counts, has_outbox=False, counts_interval_s=0.2)
    for _ in range(3):
        await sampler.sample()
    assert len(reads) == 1
    await asyncio.sleep(0.25)
    await sampler.sample()
    await sampler.sample()
    assert len(reads) == 2
