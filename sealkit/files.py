"""Finding manifest files under the paths a user names (files and directories)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sealkit.errors import InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__"}


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """Named files as given; directories walked for YAML/JSON files, sorted, VCS folders skipped."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
                found.extend(Path(root) / f for f in sorted(files) if f.lower().endswith(MANIFEST_SUFFIXES))
        else:
            raise InputError("no such file or directory", where=raw)
    return found
