"""Any value in place of any node of a valid spec: the spec loads, or is refused with spec problems; nothing
else is raised (a list where a name goes was hashed as a dict key: 'internal error')."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.csi.spec import parse_spec
from sealkit.errors import InputError
from tests.sealkit.csi.conftest import valid_spec

Path_ = tuple[str | int, ...]


def _paths(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))
    if path:
        yield path


PATHS = sorted(set(_paths(valid_spec())), key=repr)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _replaced(path: Path_, value: Any) -> dict[str, Any]:
    spec = valid_spec()
    node: Any = spec
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return spec


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), VALUES)
def test_any_value_anywhere_is_a_spec_problem_or_loads(path: Path_, value: Any) -> None:
    text = yaml.safe_dump(_replaced(path, value), sort_keys=False)
    try:
        parse_spec(text, Path("/nonexistent/sealkit-csi.yaml"), check_bases=False)
    except InputError as exc:
        assert "\n" not in str(exc)


def test_a_list_or_map_where_a_name_goes_is_refused_by_path() -> None:
    for path, value, where in (
        (("applications", "web", "sync", 0, "data", 0, "objectName"), ["db.txt"], "sync[0].data[0].objectName"),
        (("applications", "web", "workloads", 0, "env", 0, "secretName"), {"a": 1}, "env[0].secretName"),
        (("applications", "web", "workloads", 0, "env", 0, "key"), ["password"], "env[0].key"),
        (("applications", "web", "sync"), 5, "applications.web.sync"),
    ):
        text = yaml.safe_dump(_replaced(path, value), sort_keys=False)
        try:
            parse_spec(text, Path("/nonexistent/sealkit-csi.yaml"), check_bases=False)
        except InputError as exc:
            assert where in str(exc), exc
        else:
            raise AssertionError(f"{path} = {value!r} loaded")
