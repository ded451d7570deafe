"""Domain models (ORM) and the pydantic schemas of requests and responses."""
