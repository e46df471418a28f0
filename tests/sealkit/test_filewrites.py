"""All or nothing: a failure while staging changes nothing; one while renaming puts back what was renamed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sealkit.errors import InputError
from sealkit.filewrites import FileChange, write_all


def test_writes_every_file_with_modes_and_creates_directories(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    old = tmp_path / "old.yaml"
    old.write_text("before\n")
    old.chmod(0o600)
    changes = [FileChange(old, "after\n", "before\n"), FileChange(tmp_path / "a" / "b" / "new.yaml", "new\n")]
    assert write_all(changes) == changes
    assert old.read_text() == "after\n" and (old.stat().st_mode & 0o777) == 0o600
    assert (tmp_path / "a/b/new.yaml").read_text() == "new\n"
    assert ((tmp_path / "a/b/new.yaml").stat().st_mode & 0o777) == 0o644 & ~umask, "a new file: 0644 less the umask"
    assert sorted(p.name for p in tmp_path.rglob(".*")) == [], "no temporary files left"


def test_a_failure_while_renaming_restores_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [tmp_path / f"f{i}.yaml" for i in range(3)]
    for f in files:
        f.write_text(f"old {f.name}\n")
    new = tmp_path / "sub" / "new.yaml"
    changes = [FileChange(f, f"new {f.name}\n", f"old {f.name}\n") for f in files] + [FileChange(new, "n\n")]
    real_replace = Path.replace
    calls = {"n": 0}

    def failing_replace(self: Path, target: str | os.PathLike[str]) -> Path:
        calls["n"] += 1
        if calls["n"] == 3:  # the third rename fails (disk full, a lock...): the first two were done
            raise OSError(28, "No space left on device")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(InputError, match="cannot replace"):
        write_all(changes)
    monkeypatch.setattr(Path, "replace", real_replace)
    assert [f.read_text() for f in files] == [f"old {f.name}\n" for f in files]
    assert not new.exists() and not new.parent.exists()
    assert [p.name for p in tmp_path.rglob(".*")] == []


def test_a_failure_while_staging_changes_nothing(tmp_path: Path) -> None:
    ok = tmp_path / "ok.yaml"
    ok.write_text("old\n")
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    with pytest.raises(InputError) as caught:
        write_all([FileChange(ok, "new\n", "old\n"), FileChange(blocked / "child.yaml", "c\n")])
    assert ok.read_text() == "old\n"
    assert ".tmp" not in str(caught.value), "messages name the target, never a temporary file"


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    change = FileChange(target, "mine\n", None)
    target.write_text("someone else's\n")
    with pytest.raises(InputError, match="appeared while sealkit was working"):
        write_all([change])
    assert target.read_text() == "someone else's\n"
