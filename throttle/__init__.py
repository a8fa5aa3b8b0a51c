"""Rate limiting: the Limiter port and its adapters (in process, Redis)."""
