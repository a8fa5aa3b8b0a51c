"""Resolvers: thin functions from GraphQL arguments to services and stores.

They take the request ``Context`` and plain arguments and return records or
``Page`` objects; the strawberry types in ``schema/`` wrap those.
"""
