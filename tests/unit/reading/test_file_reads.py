"""Each file read from disk once per run (file_reads.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from prefect_flow_deploy.reading import file_reads


def test_inside_a_run_a_file_is_read_once_and_the_hash_forgets_it(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    path.write_bytes(b"from prefect import flow\r\n")
    before = file_reads.disk_reads[str(path)]
    with file_reads.one_read_each():
        assert file_reads.read_text(path) == "from prefect import flow\n"  # as Path.read_text
        assert file_reads.read_bytes(path) == b"from prefect import flow\r\n"
        path.write_bytes(b"changed")  # what was read is what the hash sees
        assert (
            file_reads.sha256_of(path)
            == hashlib.sha256(b"from prefect import flow\r\n").hexdigest()
        )
        assert file_reads.disk_reads[str(path)] == before + 1
        # Forgotten once hashed: a later read sees the disk again.
        assert file_reads.read_bytes(path) == b"changed"
    assert file_reads.disk_reads[str(path)] == before + 2


def test_outside_a_run_every_read_is_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("\ufeffrequests==2\n", encoding="utf-8")
    assert file_reads.read_text(path, "utf-8-sig") == "requests==2\n"
    path.write_text("httpx\n")
    assert file_reads.read_text(path) == "httpx\n"
    assert file_reads.sha256_of(path) == hashlib.sha256(b"httpx\n").hexdigest()


def test_a_large_file_no_reader_kept_is_hashed_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 3_000_000)
    with file_reads.one_read_each():
        assert file_reads.sha256_of(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
