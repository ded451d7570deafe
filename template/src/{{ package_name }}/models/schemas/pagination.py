"""Bounds of every paginated collection."""

DEFAULT_PAGE = 1
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Pages past this would ask the database for a very large offset.
MAX_PAGE = 100_000


def offset_of(page: int, per_page: int) -> int:
    return (page - 1) * per_page
