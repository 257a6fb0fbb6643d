"""Every error type sfnecs raises, in one place (papermill's `exceptions.py` style)."""

from __future__ import annotations

from sfnecs.i18n import tr


class SfnecsError(Exception):
    """Base class: anything sfnecs raises on purpose."""


class ValidationError(SfnecsError, ValueError):
    """A parameter failed validation before any AWS call was made.

    The message always names the parameter, the bad value and what is allowed.
    """

    def __init__(self, parameter: str, value: object, allowed: str):
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        # in the reader's language (sfnecs.i18n); `allowed` stays as given, for callers that quote it
        message = tr(
            "{parameter}={value} is not valid: {allowed}",
            parameter=parameter,
            value=repr(value),
            allowed=tr(allowed),
        )
        super().__init__(message)


class TargetError(SfnecsError):
    """The AWS target (sandbox or real account) cannot be reached or is not configured."""


class SandboxError(SfnecsError):
    """The embedded sandbox could not be started, found or stopped."""


class StackError(SfnecsError):
    """Creating, updating or deleting a stack's resources failed."""


class RunError(SfnecsError):
    """Starting or watching a run failed (not the job itself: that is a RunResult)."""


class ImageError(SfnecsError):
    """An image, layout or tarball could not be read."""


class RunbookError(SfnecsError):
    """A runbook could not be found, validated or executed."""
