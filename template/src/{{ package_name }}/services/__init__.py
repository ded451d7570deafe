"""Business logic. Services take plain arguments and never import a web framework."""
