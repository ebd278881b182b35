"""The local S3 store's indexed listing answers exactly as nanio does on disk (see s3_store_check.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devkit.stack.components import StackError, s3_python

CHECK = Path(__file__).with_name("s3_store_check.py")


def test_indexed_listing_matches_nanio() -> None:
    try:
        python = s3_python()
    except StackError as exc:
        pytest.skip(str(exc))
    done = subprocess.run([str(python), str(CHECK)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "s3 store checks passed" in done.stdout
