"""Errors the dashboard shows to people.

Every message names what is wrong (the file, column, variable or parameter)
and what was expected, so a planner can act on it without a traceback.
"""


class EquityError(Exception):
    """Base class: a problem with input that a person can fix."""


class SnapshotError(EquityError):
    """A raw snapshot file is missing, unreadable or not in the expected shape."""


class CensusAPIError(EquityError):
    """The Census API could not be used: no key, a refused key, an HTTP error or a bad reply."""


class CacheError(EquityError):
    """The derived-data cache could not be built or read."""


class ValidationError(EquityError):
    """A user-supplied file (targets, milestones) or parameter failed validation."""
