"""HTTP: the GraphQL view, health routes and error middleware on aiohttp."""
