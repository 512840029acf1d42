"""clamcoach's exceptions, one tree, each with the exit code the CLI returns for it.

    ClamcoachError (1)
    ├── UsageError (2)              bad arguments or option values
    ├── ProtocolError (3)           a protocol/prescription file or override is invalid
    ├── InputError (4)
    │   ├── InputNotFound (4)       the file does not exist
    │   ├── NotAVideo (5)           the file is not a video we can decode
    │   ├── EmptyVideo (6)          the video has no decodable frame
    │   ├── TooShort (12)           the video is too short to judge a rep
    │   └── InputChanged (13)       the file grew or changed while it was read
    ├── NoPersonError (7)           nobody was found in view
    │   └── NobodyLyingDown (7)     someone is in view, but nobody lies on their side
    ├── ModelMissing (8)            pose model files are not installed (run `make setup`)
    ├── OutputError (9)             an output could not be written (nothing half-written is left)
    ├── OptionalDependencyMissing (10)  an optional extra is not installed (with the hint)
    └── StorageError (11)           the history database failed (the save was rolled back)

Third-party errors (PyAV, mediapipe, SQLAlchemy) are mapped into this tree where they are
caught, so callers never see them.
"""

from __future__ import annotations


class ClamcoachError(Exception):
    exit_code = 1


class UsageError(ClamcoachError):
    exit_code = 2


class ProtocolError(ClamcoachError):
    exit_code = 3


class InputError(ClamcoachError):
    exit_code = 4


class InputNotFound(InputError):
    exit_code = 4


class NotAVideo(InputError):
    exit_code = 5


class EmptyVideo(InputError):
    exit_code = 6


class NoPersonError(ClamcoachError):
    exit_code = 7


class NobodyLyingDown(NoPersonError):
    exit_code = 7


class ModelMissing(ClamcoachError):
    exit_code = 8


class OutputError(ClamcoachError):
    exit_code = 9


class OptionalDependencyMissing(ClamcoachError):
    exit_code = 10


class StorageError(ClamcoachError):
    exit_code = 11


class TooShort(InputError):
    exit_code = 12


class InputChanged(InputError):
    exit_code = 13
