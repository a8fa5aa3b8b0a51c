"""The timeline engine's settings, as the composition root derives them from Chirp's."""

from __future__ import annotations

from dataclasses import dataclass

# What a cache, queue or bus raises when it is down right now, unless the composition
# root names its drivers' errors: reads then go to the pull path and writes degrade.
UNAVAILABLE: tuple[type[BaseException], ...] = (ConnectionError, OSError)


@dataclass(frozen=True)
class TimelineConfig:
    strategy: str = "hybrid"  # hybrid | push | pull
    celebrity_threshold: int = 10_000
    cap: int = 800
    recent_cap: int = 200  # ids kept in a celebrity's recent list
    batch: int = 1000  # followers per fan-out batch
    max_windows: int = 4  # cache windows tried per page before going to the stores
    # Candidates hydrated per chunk beyond what the page still needs, for what filtering drops.
    hydrate_margin: int = 5
    # With fan-out workers in this process, a post waits up to this long for its
    # fan-out, so followers reading right after see it (0: return at once).
    wait_for_fanout_seconds: float = 0.0
