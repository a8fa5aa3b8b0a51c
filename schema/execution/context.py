"""What the execution machinery asks of a request's context: nothing but a reset.

An operation may run twice on one context: a plan abandoned halfway, or a short
path answer with errors, runs again on graphql-core's reference executor. The
first attempt filled the context's per-request caches (its DataLoaders), and a
second run must fetch, fail and order its errors exactly as if it ran alone, so
it starts from fresh ones. A context offers that with ``fresh_loaders()``
(``resolvers/context.py``); any other context is left as it is.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ResettableContext(Protocol):
    def fresh_loaders(self) -> None:
        """Drop every per-request cache: what is loaded next is fetched anew."""


def reset_request_caches(context: object) -> None:
    """Before an operation runs again on ``context``: fresh per-request caches."""
    if isinstance(context, ResettableContext):
        context.fresh_loaders()
