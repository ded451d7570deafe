"""Data access: the only place that builds queries."""
