"""Request and response schemas; business rules beyond types live here."""
