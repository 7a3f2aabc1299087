"""Exceptions whose message is the one-line reason the CLI prints."""


class CardiacMotionError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing, one-line reason."""

    exit_code = 1


class InputError(CardiacMotionError):
    """Bad input: missing file, wrong format, inconsistent geometry, seed outside the image..."""

    exit_code = 2


class NotAvailableError(CardiacMotionError):
    """A method or feature that cannot run here (no weights, not built yet, ...)."""

    exit_code = 3


class MethodFailedError(NotAvailableError):
    """The method ran but produced no result (e.g. it labelled only the seeded frames): exit 3."""


class WeightsError(CardiacMotionError):
    """Model weights missing, corrupt, or for another architecture."""

    exit_code = 4
