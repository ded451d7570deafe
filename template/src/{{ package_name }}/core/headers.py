"""Security headers sent with every response, and the order methods are listed in Allow."""

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
# Browsers remember HSTS for max-age seconds; only send it where the service is served over TLS.
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(*, production: bool) -> list[tuple[str, str]]:
    return [*SECURITY_HEADERS, HSTS] if production else list(SECURITY_HEADERS)
