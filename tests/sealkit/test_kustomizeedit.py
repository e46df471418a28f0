"""New files into a kustomization's `resources`, in place: comments and layout kept, sorted lists stay sorted."""

from __future__ import annotations

import pytest
import yaml

from sealkit.errors import InputError
from sealkit.kustomizeedit import add_resources

NEW = ["shop.db.sealedsecret.yaml", "aaa.yaml", "zzz.yaml"]


def test_sorted_block_list_gets_entries_in_order_with_comments_kept() -> None:
    text = "# dev\nkind: Kustomization\nresources:\n  - b.yaml  # why b\n  - x.yaml\n# end\n"
    out = add_resources(text, NEW, "k")
    assert out == (
        "# dev\nkind: Kustomization\nresources:\n  - aaa.yaml\n  - b.yaml  # why b\n"
        "  - shop.db.sealedsecret.yaml\n  - x.yaml\n  - zzz.yaml\n# end\n"
    )


@pytest.mark.parametrize(
    ("text", "resources"),
    [
        ("resources:\n- z.yaml\n- a.yaml\nnamespace: x\n", ["z.yaml", "a.yaml", *NEW]),  # unsorted: appended
        ("resources: [z.yaml]\n", ["z.yaml", *NEW]),
        ("kind: Kustomization\n", sorted(NEW)),
        ("kind: Kustomization\nresources:\nnamespace: x\n", NEW),
        ('{"kind": "Kustomization"}', NEW),
    ],
)
def test_other_shapes(text: str, resources: list[str]) -> None:
    out = add_resources(text, NEW, "k")
    assert yaml.safe_load(out)["resources"] == resources


def test_listed_names_are_not_added_twice_and_a_non_list_is_refused() -> None:
    text = "resources:\n  - aaa.yaml\n"
    assert add_resources(text, ["aaa.yaml"], "k") == text
    with pytest.raises(InputError, match="resources is not a list"):
        add_resources("resources: {a: b}\n", ["x.yaml"], "k")
