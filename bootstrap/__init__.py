"""The composition root: settings, opening the stores, building and running the services.

The only place that knows which adapter serves each port; ``app.py`` and the
tests start Chirp through it.
"""
