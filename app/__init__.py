"""The HTTP side: Quart app factory, routes per the contract, auth, errors, OpenAPI."""
