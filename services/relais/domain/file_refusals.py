"""Why relais refuses a file an event names: one code per cause, told to the CFA.

Every refusal is permanent for that event (``InputError``): the CFA fixes the reference or the
file and sends a new event. A store that cannot be reached is not a refusal: that is retryable
(``services/files_port.FileStoreUnavailableError``). Messages name the file (its name, sizes, the
location's scheme), never its content.
"""

from __future__ import annotations

from enum import StrEnum

from relais.errors import InputError


class FileCode(StrEnum):
    LOCATION_INVALID = "FILE_LOCATION_INVALID"  # not a location of the grammar (``..``, too long)
    LOCATION_FORBIDDEN = "FILE_LOCATION_FORBIDDEN"  # a scheme, bucket, prefix or root not granted
    TOO_LARGE = "FILE_TOO_LARGE"  # over the configured limit (or the inline limit)
    TYPE_UNSUPPORTED = "FILE_TYPE_UNSUPPORTED"  # not pdf/png/jpg by its bytes, or name disagrees
    HASH_MISMATCH = "FILE_HASH_MISMATCH"  # size or SHA-256 differ from the reference
    NOT_FOUND = "FILE_NOT_FOUND"  # no such object or file in the granted store
    UNAVAILABLE = "FILE_UNAVAILABLE"  # unreadable (issue 17's local opener: one code for all)


class FileRefusedError(InputError):
    """A file relais will not send, with the ``FileCode`` that says why."""

    def __init__(self, code: FileCode, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.file_code = code
