"""structlog set-up: JSON lines in production, readable console output in development.

The standard library's loggers (uvicorn, SQLAlchemy, Alembic) go through the same
processors, so every line has the same shape and carries the request id.
"""

import logging
import re
import sys
import uuid
from collections.abc import Sequence

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.types import Processor

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only when it is short and plain, so it cannot forge log lines.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_from(candidate: str | None) -> str:
    """The caller's request id when it is safe to log, else a new one."""
    if candidate is not None and _VALID_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


def configure_logging(*, level: str, json_logs: bool) -> None:
    """Route structlog and the standard library's logging to one stream in one format."""
    shared: Sequence[Processor] = (
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    )
    structlog.configure(
        processors=[
            # Drop events below the level before any work is spent on them.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *output_processors(json_logs=json_logs),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's own handlers would print a second, differently shaped line.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
    # The request middleware logs each request once as `http_request`.
    logging.getLogger("uvicorn.access").disabled = True


def output_processors(*, json_logs: bool) -> list[Processor]:
    """How a line is written: JSON, or readable console output, with its traceback if any."""
    if json_logs:
        # Tracebacks as data, without the frames' local variables: they may hold a password.
        return [
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ]
    # A plain traceback: rich's, the default when rich is installed, prints every local.
    return [
        structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    ]
