"""The features the answers switched on, one module each, listed in `bootstrap.PLUGINS`."""
