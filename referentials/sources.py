"""Opening the official files as bounded-memory streams, and the errors their readers collect.

Shared by the FINESS, FiNESS+ and RPPS readers: a source is a path or an open binary file
object; it is never read whole into memory. Encoding is sniffed on a bounded prefix.
"""

import codecs
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Self

Source = str | os.PathLike[str] | BinaryIO

SNIFF_SIZE = 64 * 1024
_FALLBACK_HANDLER = "referentials-cp1252-fallback"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 refused as cp1252 (a cp1252 line in a mostly UTF-8 file)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK_HANDLER, _cp1252_fallback)


@dataclass(frozen=True)
class RowError:
    """A problem found in one place of a file; the import goes on with the next row."""

    file_name: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file_name}, ligne {self.line}"
        if self.field:
            where += f", champ « {self.field} »"
        return f"{where} : {self.message}"


class _PrefixedRaw(io.RawIOBase):
    """Gives back bytes already read (the sniffed prefix) before the rest of a stream."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        if len(self._prefix):
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._rest.read(len(buffer))
        if not data:
            return 0
        buffer[: len(data)] = data
        return len(data)


def source_name(source: Source) -> str:
    """The file name to quote in error messages."""
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else "fichier"


@contextmanager
def open_binary(source: Source) -> Iterator[BinaryIO]:
    """The source as a binary stream; a path is opened (and closed) here, a stream is not."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            yield stream
    else:
        yield source


def peek(stream: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    """The first ``size`` bytes of a stream, and a stream that still starts with them."""
    prefix = stream.read(size)
    if not isinstance(prefix, bytes):
        raise TypeError(
            'le fichier doit être ouvert en mode binaire (open(chemin, "rb")) : l\'encodage '
            "est détecté par le lecteur."
        )
    return prefix, io.BufferedReader(_PrefixedRaw(prefix, stream), buffer_size=SNIFF_SIZE)


def sniff_encoding(prefix: bytes) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``cp1252``, judged on a bounded prefix of the file.

    A multi-byte character cut by the end of the prefix does not count against UTF-8.
    """
    if prefix.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(prefix, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def text_stream(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    """A decoded, line-buffered view of a binary stream, newline handling left to ``csv``.

    A UTF-8 file whose prefix looked fine but that holds cp1252 bytes further down does not
    stop the import: those bytes are decoded as cp1252.
    """
    errors = _FALLBACK_HANDLER if encoding.startswith("utf-8") else "replace"
    return io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")


class ClosingReader:
    """Closes the file a reader opened itself (``self._owned``); usable in ``with``."""

    _owned: IO[Any] | None = None

    def _open(self, source: Source) -> BinaryIO:
        """The source as a binary stream: a path is opened here and closed by ``close()``."""
        self.file_name = source_name(source)
        if isinstance(source, str | os.PathLike):
            self._owned = open(source, "rb")  # noqa: SIM115 - closed by close() / iteration end
            return self._owned
        return source

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
            self._owned = None
