"""GraphQL execution machinery, apart from Chirp's types and resolvers.

``schema.py`` the schema class (error classification, the short path),
``pipeline.py`` the request pipeline (cached parse and validation, limits),
``plan.py`` compiled execution plans, ``limits.py`` validation rules that bound
a document, ``lookahead.py`` which fields a request selects below a field,
``context.py`` the one thing asked of a request's context. It imports nothing
of the application (core, services, resolvers): error classes and the latency
metric come in as arguments. The plans rely on private strawberry and
graphql-core internals; ``pyproject.toml`` pins both and says what to check
when bumping them.
"""
