"""Domain errors shared by stores and the API (mapped to HTTP codes in api/errors.py)."""


class NotFound(LookupError):
    """The resource does not exist, or lies outside what the user may see."""


class StaleVersion(Exception):
    """The update carried a version that is no longer current: reload and retry."""


class AlreadyExists(Exception):
    """A resource with the same natural key exists (a username, a team, an open task)."""


class InvalidRequest(ValueError):
    """The request is well-formed but does not make sense for the data (e.g. a hotspot without a commune)."""
