"""`--pin`/`--unpin` edits: only version lines change, the result says exactly what was asked."""

from __future__ import annotations

import codecs
import difflib
import errno
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit.csi import pinning
from sealkit.csi.model import Spec
from sealkit.csi.spec import load_spec, parse_spec
from sealkit.errors import InputError

V1 = "0123456789abcdef0123456789abcdef"
V2 = "fedcba9876543210fedcba9876543210"
VERSION_LINE = re.compile(r"^\s*(version:|(dev|prod): )")
OBJ = ("web", 0)  # the first object of the test spec's app


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line[1:] for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def versions(spec: Spec) -> dict[tuple[str, int, str], str]:
    return {
        (app.name, i, env): obj.version_for(env)
        for app in spec.applications.values()
        for i, obj in enumerate(app.objects)
        for env in spec.environments
    }


@pytest.fixture
def example_copy(tmp_path: Path, example_dir: Path) -> Path:
    target = tmp_path / "gitops"
    shutil.copytree(example_dir, target)
    return target / "sealkit-csi.yaml"


def test_pin_then_unpin_the_example_changes_only_version_lines(example_copy: Path) -> None:
    original = example_copy.read_text()
    spec = load_spec(example_copy, check_bases=False)
    pins = {
        (app.name, i): {env: V1 for env in spec.environments if not obj.version_for(env)}
        for app in spec.applications.values()
        for i, obj in enumerate(app.objects)
    }
    assert pinning.apply(spec, pins)
    pinned = example_copy.read_text()
    changes = changed_lines(original, pinned)
    assert changes and all(VERSION_LINE.match(line) for line in changes), changes
    after = versions(load_spec(example_copy, check_bases=False))
    assert after[("orders", 0, "prod")] == "3f9a1c0b7e2d4a6f8b1c2d3e4f5a6b7c"  # an existing pin is kept
    assert all(v for v in after.values())
    assert "# a certificate-backed secret: private key + chain as PEM" in pinned  # comments survive
    assert not pinning.apply(load_spec(example_copy, check_bases=False), pins)  # nothing new

    assert pinning.apply(load_spec(example_copy, check_bases=False), pinning.unpins_for(spec))
    unpinned = example_copy.read_text()
    assert all(v == "" for v in versions(load_spec(example_copy, check_bases=False)).values())
    removed = changed_lines(original, unpinned)
    assert removed == ["        version:", "          dev: latest", "          prod: 3f9a1c0b7e2d4a6f8b1c2d3e4f5a6b7c"]


SPEC_HEAD = """\
apiVersion: sealkit/v1alpha1
kind: KeyVaultCsi
environments:
  dev: {vault: kv-dev, tenant: 11111111-2222-3333-4444-555555555555, overlay: o/dev, sealingCert: c.pem,
        identity: {vmManagedIdentity: {}}}
  prod: {vault: kv-prod, tenant: 11111111-2222-3333-4444-555555555555, overlay: o/prod, sealingCert: c.pem,
         identity: {vmManagedIdentity: {}}}
applications:
  web:
    namespace: team
    base: apps/web/base
    objects:
"""


def edit(objects: str, changes: dict[tuple[str, int], dict[str, str | None]], newline: str = "\n") -> str:
    text = (SPEC_HEAD + objects).replace("\n", newline)
    out = pinning.edit_text(text, changes, ["dev", "prod"])
    parse_spec(out, Path("spec.yaml"), check_bases=False)  # still a valid spec
    return out


@pytest.mark.parametrize(
    ("objects", "changes", "expected"),
    [
        (  # no version key: a block is added after the object's last line, before comments
            "      - name: db\n        type: secret\n      # next one\n      - name: other\n",
            {OBJ: {"dev": V1}},
            "      - name: db\n        type: secret\n        version:\n          dev: " + V1 + "\n"
            "      # next one\n      - name: other\n",
        ),
        (  # scalar latest with a comment: becomes a map, the comment stays on the key line
            "      - name: db\n        version: latest  # follow rotation\n",
            {OBJ: {"dev": V1, "prod": V2}},
            f"      - name: db\n        version: # follow rotation\n          dev: {V1}\n          prod: {V2}\n",
        ),
        (  # block map: value replaced in place, entry comment kept, missing entry appended
            "      - name: db\n        version:\n          dev: latest   # was\n        alias: x\n",
            {OBJ: {"dev": V1, "prod": V2}},
            f"      - name: db\n        version:\n          dev: {V1}   # was\n"
            f"          prod: {V2}\n        alias: x\n",
        ),
        (  # flow map on one line: rewritten as a flow map
            f"      - name: db\n        version: {{dev: latest, prod: {V2}}}  # note\n",
            {OBJ: {"dev": V1}},
            f"      - name: db\n        version: {{dev: {V1}, prod: {V2}}}  # note\n",
        ),
        (  # unpin one environment of a scalar pin: the other keeps it
            f"      - name: db\n        version: {V1}\n",
            {OBJ: {"dev": None}},
            f"      - name: db\n        version:\n          prod: {V1}\n",
        ),
        (  # unpin everything: the version block goes, nothing else
            f"      - name: db\n        version:\n          dev: {V1}\n          prod: {V2}\n        type: secret\n",
            {OBJ: {"dev": None, "prod": None}},
            "      - name: db\n        type: secret\n",
        ),
        (  # unpin a flow map
            f"      - name: db\n        version: {{dev: {V1}}}\n        type: secret\n",
            {OBJ: {"dev": None, "prod": None}},
            "      - name: db\n        type: secret\n",
        ),
        (  # unpin what is not pinned: no change at all
            "      - name: db\n        version: latest\n",
            {OBJ: {"dev": None, "prod": None}},
            "      - name: db\n        version: latest\n",
        ),
        (  # digits-only and YAML 1.2 float look-alikes are quoted
            "      - name: db\n",
            {OBJ: {"dev": "1" * 32, "prod": "1" * 16 + "e" + "2" * 15}},
            f'      - name: db\n        version:\n          dev: "{"1" * 32}"\n'
            f'          prod: "{"1" * 16}e{"2" * 15}"\n',
        ),
    ],
)
def test_edit_forms(objects: str, changes: dict[tuple[str, int], dict[str, str | None]], expected: str) -> None:
    assert edit(objects, changes) == SPEC_HEAD + expected


def test_crlf_files_keep_their_line_endings() -> None:
    out = edit("      - name: db\n", {OBJ: {"dev": V1}}, newline="\r\n")
    assert out == (SPEC_HEAD + f"      - name: db\n        version:\n          dev: {V1}\n").replace("\n", "\r\n")


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ("      - {name: db, type: secret}\n", "flow style"),
        (f"      - version: {{dev: {V1}}}\n        name: db\n", "off the `- ` line"),
    ],
)
def test_forms_it_cannot_edit_are_refused_with_a_clear_line(objects: str, message: str) -> None:
    changes: dict[tuple[str, int], dict[str, str | None]] = {OBJ: {"dev": None, "prod": None}}
    if "flow" in message:
        changes = {OBJ: {"dev": V1}}
    with pytest.raises(InputError, match=message):
        edit(objects, changes)


version_choice = st.one_of(st.none(), st.sampled_from([V1, V2, "a" * 32]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.tuples(st.integers(0, 2), st.sampled_from(["dev", "prod"])), version_choice, max_size=6))
def test_any_pin_unpin_mix_gives_exactly_the_asked_versions(
    make_repo: Callable[[dict[str, Any]], Path], spec_dict: dict[str, Any], asked: dict[tuple[int, str], str | None]
) -> None:
    path = make_repo(spec_dict)
    spec = load_spec(path, check_bases=False)
    before_text = path.read_text()
    before = versions(spec)
    changes: dict[tuple[str, int], dict[str, str | None]] = {}
    for (index, env), version in asked.items():
        changes.setdefault(("web", index), {})[env] = version
    pinning.apply(spec, changes)
    after = versions(load_spec(path, check_bases=False))
    for key, version in before.items():
        _, index, env = key
        wanted = asked.get((index, env), version)
        assert after[key] == (wanted or ""), (key, path.read_text())
    assert all(VERSION_LINE.match(line) for line in changed_lines(before_text, path.read_text()))


@pytest.mark.parametrize(("refused", "error"), [("open", errno.EACCES), ("write", errno.ENOSPC)])
def test_a_spec_that_cannot_be_written_is_named_and_kept(
    example_copy: Path, monkeypatch: pytest.MonkeyPatch, refused: str, error: int
) -> None:
    """The spec cannot be opened for writing (EACCES, simulated: CI runs as root) or the disk fills half-way
    through its rewrite: one line naming the spec, and the spec as it was, no file left beside it."""
    from sealkit import filewrites

    real = {"open": os.open, "write": os.write}[refused]
    calls: list[int] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        if refused == "open" and (Path(args[0]) != example_copy or not args[1] & os.O_RDWR):
            return real(*args, **kwargs)  # only the spec's opening for writing is refused
        if refused == "write" and (calls or args[0] <= 2):
            return real(*args, **kwargs)  # the first write to the spec fails after half; the undo goes through
        if refused == "write":
            calls.append(real(args[0], bytes(args[1][: len(args[1]) // 2])))
        raise OSError(error, os.strerror(error))

    original = example_copy.read_bytes()
    spec = load_spec(example_copy, check_bases=False)
    monkeypatch.setattr(filewrites.os, refused, refuse)
    with pytest.raises(InputError) as caught:
        pinning.apply(spec, {("orders", 1): {"dev": V1}})
    monkeypatch.undo()
    assert str(caught.value) == f"cannot write ({os.strerror(error).lower()}): {example_copy}"
    assert example_copy.read_bytes() == original
    assert sorted(p.name for p in example_copy.parent.iterdir() if p.name.startswith(".sealkit-csi")) == []


def test_the_spec_keeps_its_byte_order_mark_and_hard_links(example_copy: Path) -> None:
    """A spec saved with a byte-order mark (Windows editors) lost it, and a hard link to the spec kept the old
    versions (the spec was replaced by a new file): the spec is now rewritten in place, as every edit is."""
    example_copy.write_bytes(codecs.BOM_UTF8 + example_copy.read_bytes())
    link = example_copy.parent / "linked.yaml"
    os.link(example_copy, link)
    assert pinning.apply(load_spec(example_copy, check_bases=False), {("orders", 1): {"dev": V1}})
    data = example_copy.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and not data[3:].startswith(codecs.BOM_UTF8)
    assert link.read_bytes() == data
    assert versions(load_spec(example_copy, check_bases=False))[("orders", 1, "dev")] == V1


@pytest.mark.parametrize(
    ("changes", "changed"),
    [
        ({OBJ: {"dev": V1}}, 1),  # pinning db would pin api to db's version id (a version api does not have)
        ({("web", 1): {"dev": V1}}, 0),  # pinning api (the alias) would pin db to api's version id
        ({OBJ: {"dev": V1}, ("web", 1): {"dev": V2}}, 1),  # both into one mapping: a duplicate key
    ],
)
def test_a_version_shared_through_an_anchor_is_refused_and_kept(
    tmp_path: Path, changes: dict[tuple[str, int], dict[str, str | None]], changed: int
) -> None:
    """An edit of a `version` that a YAML alias shares changed the other object's version too, without a word
    (or failed with an 'internal:' line quoting versions); now nothing is written and the line names it."""
    objects = (
        f"      - name: db\n        version: &pins\n          prod: {V2}\n      - name: api\n        version: *pins\n"
    )
    path = tmp_path / "sealkit-csi.yaml"
    path.write_text(SPEC_HEAD + objects)
    with pytest.raises(InputError) as refused:
        pinning.apply(load_spec(path, check_bases=False), changes)
    shared = "the version is shared with another object through a YAML anchor (&) and alias (*)"
    assert str(refused.value).startswith(shared)
    assert str(refused.value).endswith(f"applications.web.objects[{changed}].version")
    assert path.read_text() == SPEC_HEAD + objects
    # unpinning the alias alone removes its own line: db keeps its pin
    assert pinning.apply(load_spec(path, check_bases=False), {("web", 1): {"prod": None}})
    assert versions(load_spec(path, check_bases=False))[("web", 0, "prod")] == V2
