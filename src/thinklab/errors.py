"""One base class for errors the user can fix (bad input, missing data, unreachable server).

The CLI prints these as a single line and exits 2; anything else is a bug and keeps its traceback.
"""


class ThinklabError(Exception):
    """An error caused by input or environment, with a message that says what to do."""


class DataError(ThinklabError, ValueError):
    """A malformed data file or record; the message names the file and line."""
