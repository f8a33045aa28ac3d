"""One error hierarchy. Each error carries the exit code the CLI turns it into."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import RunReport


class BaseImagesError(Exception):
    """Base of every error baseimages raises on purpose."""

    exit_code = 1


class ConfigError(BaseImagesError):
    """Bad input: a catalog file, pyproject settings, a flag or an environment variable.

    The message names the file and the field, so that the user can fix it.
    """

    exit_code = 2

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")


class EngineError(BaseImagesError):
    """The Docker engine or buildx is not usable (not running, no multi-platform support)."""

    exit_code = 4


class BuildError(BaseImagesError):
    """`docker buildx build` failed for an image. `log` holds the tail of the buildx output; `transient`
    says that the build itself may well succeed when run again (BuildKit lost its client session)."""

    def __init__(self, image: str, message: str, log: str = "", transient: bool = False) -> None:
        self.image = image
        self.log = log
        self.transient = transient
        super().__init__(f"{image}: {message}")


class CheckFailed(BaseImagesError):
    """A smoke test, size budget or contract failed on a platform: the image is not promoted."""


class SigningError(BaseImagesError):
    """cosign could not sign or attest a digest: the image is not promoted (no tag points at an unsigned digest)."""


class SignatureRefused(SigningError):
    """The registry refused what cosign uploaded (401/403: the login may not write signatures or
    attestations there). Like any registry that refuses, exit code 3; no tag moves either way."""

    exit_code = 3


class PromotionError(BaseImagesError):
    """Tags could not be moved, e.g. an immutable tag already points at another digest."""


class RegistryError(BaseImagesError):
    """The registry could not be reached or refused an operation, after retries where they help.

    `transient` says whether trying again may help (5xx, 429, resets, timeouts) or not (401/403, unknown
    manifest, invalid reference).
    """

    exit_code = 3

    def __init__(self, message: str, transient: bool = False, status: int | None = None) -> None:
        self.transient = transient
        self.status = status  # the HTTP status, when the registry answered
        super().__init__(message)


class Abandoned(RegistryError):
    """A request given up because its caller set the CANCEL event (another part of the same job failed);
    never retried, and never the error a user sees: the failure that set the event is."""


class NotificationError(BaseImagesError):
    """A notification of a promotion (`notify-url`) could not be delivered, after retries where they help.
    Never raised to a user and never undoes a promotion: the run's report names the URL (a warning), and
    the run's exit code is this one only when everything else succeeded."""

    exit_code = 6


class InternalError(BaseImagesError):
    """Something baseimages did not expect (a bug): reported in one line, never as a traceback."""

    exit_code = 70

    def __init__(self, what: str, exc: BaseException) -> None:
        super().__init__(f"{what}: internal error (please report it): {type(exc).__name__}: {exc}")


class RunCancelled(BaseImagesError):
    """The run was interrupted (Ctrl-C, SIGTERM); what had not promoted keeps its old tags. EXIT_CODE is
    128 + the signal (130 SIGINT, 143 SIGTERM); REPORT is the run's report, written before this was
    raised (None when the run was stopped before it had one)."""

    exit_code = 130

    def __init__(self, message: str, exit_code: int = 130, report: RunReport | None = None) -> None:
        self.exit_code = exit_code
        self.report = report
        super().__init__(message)


__all__ = [
    "BaseImagesError",
    "BuildError",
    "CheckFailed",
    "ConfigError",
    "EngineError",
    "InternalError",
    "NotificationError",
    "PromotionError",
    "RegistryError",
    "RunCancelled",
    "SigningError",
]
