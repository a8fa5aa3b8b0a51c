"""Home timelines: the timeline cache (port and adapters) and the timeline service."""
