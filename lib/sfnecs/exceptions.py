"""Every error type sfnecs raises, in one place (papermill's `exceptions.py` style)."""

from __future__ import annotations


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
        super().__init__(f"{parameter}={value!r} is not valid: {allowed}")


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
