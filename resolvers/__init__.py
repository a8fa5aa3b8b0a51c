"""Resolvers: thin functions from GraphQL arguments to services, one module per domain.

They take the request ``Context`` (``context.py``) and plain arguments and return
records or ``Page`` objects; the strawberry types in ``schema/`` wrap those. Reads
by key go through this request's DataLoaders (``loaders.py``), everything else
through the services; never to a store directly.
"""
