"""Home timelines: reading (home.py), fan-out on write (fanout.py) and the feed operations
both share (feeds.py), the realtime hub and the fan-out workers, above the timeline cache,
fan-out queue and event bus ports (port.py) and their adapters (memory.py, redis.py)."""
