"""The failures casectl reports: each carries a message written for the user."""


class CasectlError(Exception):
    """A step refused or failed; the CLI prints the message and exits 1."""

    exit_code = 1


class ConfigError(CasectlError):
    """roster.yaml or severity.yaml is wrong: the message names file, key and what was expected."""


class RefusedError(CasectlError):
    """A service rule forbids the step."""


class NotFoundError(CasectlError):
    """No such case, engineer or RMA."""


class BrokenCaseError(CasectlError):
    """A case file that cannot be read as a case."""
