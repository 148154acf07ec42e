"""ZIP archives from outside (uploads, .docx files): what Python's zipfile raises for one
that is damaged, so that such a file is refused with a message rather than a server error."""

from __future__ import annotations

import zipfile
import zlib

# Besides BadZipFile: a corrupt compressed stream (zlib.error, EOFError), a header that points
# outside the file or holds an undecodable name (ValueError), a malformed extra field
# (IndexError), a compression method or version zipfile cannot unpack (NotImplementedError)
# and an encrypted member (RuntimeError).
DAMAGED_ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    IndexError,
    NotImplementedError,
    RuntimeError,
    OSError,
)
