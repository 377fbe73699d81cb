"""Each file of the repository read from disk once per run.

A folder's files are read by several readers: the flow finder and the cross-module resolver
(every `.py`), the checks of requirements.txt (four), the Dockerfile's checks and its recipe,
and finally the content hash (every file of the build context). Inside `one_read_each()`
(gather holds it around reading and hashing) the first reader's bytes are kept for the
others, and the content hash `take`s them, which forgets them: what a run holds at once is
the source files between reading and hashing, never a large data file (only the hash reads
those, in chunks, once). Outside it, every call reads from disk, as a one-off reader should.

`disk_reads` counts what was read, for the count tests (tests/unit/run/test_engine_costs.py).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _Reads:
    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}
        self.lock = threading.Lock()


_current: _Reads | None = None
disk_reads: Counter[str] = Counter()  # path → times read from disk (every read, in or out)


@contextmanager
def one_read_each() -> Iterator[None]:
    """Within the block, a file read once is not read from disk again."""
    global _current
    previous, _current = _current, _Reads()
    try:
        yield
    finally:
        _current = previous


def _key(path: Path | str) -> str:
    return os.path.abspath(path)


def _from_disk(key: str) -> bytes:
    with open(key, "rb") as handle:
        data = handle.read()
    disk_reads[key] += 1
    return data


def read_bytes(path: Path | str) -> bytes:
    """The file's bytes (raises OSError as `open` does)."""
    key = _key(path)
    reads = _current
    if reads is None:
        return _from_disk(key)
    with reads.lock:
        if key in reads.kept:
            return reads.kept[key]
    data = _from_disk(key)
    with reads.lock:
        reads.kept.setdefault(key, data)
    return data


def read_text(path: Path | str, encoding: str = "utf-8", errors: str = "strict") -> str:
    """`Path.read_text` over `read_bytes` (universal newlines, as it reads)."""
    text = read_bytes(path).decode(encoding, errors)
    return text.replace("\r\n", "\n").replace("\r", "\n")


# pip's order (pip/_internal/utils/encoding.py, BOMS): a requirements file saved by a Windows
# editor as UTF-16 is installed by pip (Stjefan/prefect-flows), so it is read as pip reads it.
_PIP_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
)


def read_pip_text(path: Path | str, errors: str = "strict") -> str:
    """A file pip reads (requirements, constraints) decoded as pip's auto_decode decodes
    it: by its byte-order mark, else UTF-8 (the runner's and the images' locale)."""
    data = read_bytes(path)
    encoding = "utf-8"
    for bom, name in _PIP_BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], name
            break
    text = data.decode(encoding, errors)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sha256_of(path: Path | str) -> str:
    """The file's SHA-256, its kept bytes forgotten (the hash is their last reader); a file
    no reader kept is hashed in chunks straight from disk."""
    key = _key(path)
    reads = _current
    if reads is not None:
        with reads.lock:
            data = reads.kept.pop(key, None)
        if data is not None:
            return hashlib.sha256(data).hexdigest()
    with open(key, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    disk_reads[key] += 1
    return digest
