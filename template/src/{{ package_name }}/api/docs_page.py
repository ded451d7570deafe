"""The /docs page: Swagger UI, served by the service itself, the same for either framework.

Its files come from a pinned package (swagger-ui-bundle-v2, whose files are those of
swagger-ui-dist on npm), never from a third party at run time, and the page starts Swagger UI
from a script file of its own, so that its policy allows scripts of the service's origin only.
"""

import functools
import html
from dataclasses import dataclass
from importlib import resources
from string import Template

PAGE_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
# The page's own policy, in place of the API's `default-src 'none'`: Swagger UI's script and
# styles come from this service, its icons are data: URLs, and it reads /openapi.json.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"

_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title - Swagger UI</title>
<link rel="icon" type="image/png" href="$assets/favicon-32x32.png">
<link rel="stylesheet" href="$assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="$assets/swagger-ui-bundle.js"></script>
<script src="$assets/swagger-initializer.js"></script>
</body>
</html>
""")
# No validator badge: it would load an image from a third party.
_INITIALIZER = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
});
"""
# The files of the package the page uses, and their media types.
_PACKAGED = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": JAVASCRIPT,
    "favicon-32x32.png": "image/png",
}


@dataclass(frozen=True)
class Asset:
    content: bytes
    media_type: str


def page(title: str) -> str:
    """The page's HTML, titled with the API's name."""
    return _PAGE.substitute(title=html.escape(title), assets=ASSETS_PATH)


def asset(name: str) -> Asset | None:
    """A file of the page by its name; None for any other name."""
    if name == "swagger-initializer.js":
        return Asset(_INITIALIZER.encode(), JAVASCRIPT)
    media_type = _PACKAGED.get(name)
    if media_type is None:
        return None
    return Asset(_read(name), media_type)


@functools.cache
def _read(name: str) -> bytes:
    """Read once per process (only the names of `_PACKAGED` reach here), from the package's
    one folder of Swagger UI files, vendor/swagger-ui-<version>."""
    (folder,) = (resources.files("swagger_ui_bundle") / "vendor").iterdir()
    return (folder / name).read_bytes()
