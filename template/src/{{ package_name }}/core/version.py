"""The service's version, as its OpenAPI document and health probes report it."""

__version__ = "0.1.0"
