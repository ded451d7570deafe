"""Headers every response carries by default, and the order methods are listed in Allow."""

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# What OWASP's REST Security Cheat Sheet asks of a JSON API. A response that sets one of these
# itself keeps its own (the docs page has a policy of its own); see `default_headers`.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
)
# uvicorn sends no Server header (server_header=False) and granian always sends its own name
# unless the application sends one, so both send this one, which names neither.
SERVER_HEADER = ("Server", "api")
# Browsers remember HSTS for max-age seconds; only send it where the service is served over TLS.
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(*, production: bool) -> list[tuple[str, str]]:
    """The headers the request middleware adds to each response that has not set them."""
    headers = [*SECURITY_HEADERS, SERVER_HEADER]
    return [*headers, HSTS] if production else headers


def allowed_methods(methods: set[str]) -> str:
    """The Allow header of a path routed for `methods`: HEAD wherever GET is, in a fixed order."""
    allowed = methods | {"HEAD"} if "GET" in methods else methods
    return ", ".join(method for method in HTTP_METHODS if method in allowed)
