"""The domain exception hierarchy.

Services raise these; one handler per framework turns each into the failure envelope.
Messages are written for the person using the API and never carry internals.
"""

from typing import ClassVar

ErrorDetails = dict[str, list[str]]


class AppError(Exception):
    """Base of every error the API reports on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Something went wrong on our side. Try again later."

    def __init__(self, message: str | None = None, *, errors: ErrorDetails | None = None) -> None:
        self.message = message or self.default_message
        self.errors: ErrorDetails = errors if errors is not None else {}
        # Response headers the error calls for, such as Retry-After.
        self.headers: dict[str, str] = {}
        super().__init__(self.message)


class InvalidInputError(AppError):
    status_code = 400
    code = "INVALID_INPUT"
    default_message = "The request could not be understood. Check its body and parameters."


class NotAuthenticatedError(AppError):
    status_code = 401
    code = "NOT_AUTHENTICATED"
    default_message = "Sign in to continue."


class InvalidCredentialsError(AppError):
    status_code = 401
    code = "INVALID_CREDENTIALS"
    default_message = "The credentials are not valid. Check them and try again."


class ForbiddenError(AppError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "You do not have permission to do this."


class NotFoundError(AppError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "The requested resource was not found."


class MethodNotAllowedError(AppError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    default_message = "This method is not allowed here. The Allow header lists the ones that are."


class ConflictError(AppError):
    status_code = 409
    code = "CONFLICT"
    default_message = "The request conflicts with the current state of the resource."


class PayloadTooLargeError(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large. Send a smaller one."


class ValidationFailedError(AppError):
    status_code = 422
    code = "VALIDATION_ERROR"
    default_message = "Validation failed. Correct the fields listed in errors and try again."


class RateLimitExceededError(AppError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    default_message = "Too many requests. Wait a moment and try again."

    def __init__(self, retry_after: int | None = None) -> None:
        if retry_after is None:
            super().__init__()
            return
        super().__init__(f"Too many requests. Try again in {retry_after} seconds.")
        self.headers["Retry-After"] = str(retry_after)


class ServiceUnavailableError(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable. Try again shortly."


class DependencyUnavailableError(ServiceUnavailableError):
    """A server the service needs did not answer. It is named by its role, such as "database"
    or "cache", never by its host."""

    def __init__(self, *roles: str) -> None:
        verb = "is" if len(roles) == 1 else "are"
        super().__init__(
            f"The {' and '.join(roles)} {verb} unreachable. Try again shortly.",
            errors={role: [f"The {role} did not answer."] for role in roles},
        )
        self.roles = roles


_ERRORS_BY_STATUS: dict[int, type[AppError]] = {
    error.status_code: error
    for error in (
        InvalidInputError,
        NotAuthenticatedError,
        ForbiddenError,
        NotFoundError,
        MethodNotAllowedError,
        ConflictError,
        PayloadTooLargeError,
        ValidationFailedError,
        RateLimitExceededError,
        ServiceUnavailableError,
    )
}


def error_classes() -> list[type[AppError]]:
    """AppError and every subclass of it defined so far (the app defines them all once its
    routes are imported), for the error codes the OpenAPI document lists."""
    found: list[type[AppError]] = [AppError]
    for error_class in found:  # grows while it is read: a walk of the whole hierarchy
        found.extend(sub for sub in error_class.__subclasses__() if sub not in found)
    return found


def error_for_status(status_code: int) -> AppError:
    """The domain error a framework's own HTTP error of this status stands for."""
    error_class = _ERRORS_BY_STATUS.get(status_code)
    if error_class is not None:
        return error_class()
    if 400 <= status_code < 500:
        return InvalidInputError()
    return AppError()
