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


@pytest.mark.parametrize(
    ("text", "resources"),
    [
        ("resources: [\n  a.yaml,\n  b.yaml,\n]\n", ["a.yaml", "b.yaml", *NEW]),  # a trailing comma
        ("resources: [a.yaml, # why\n]\n", ["a.yaml", *NEW]),  # a comment: the entries went into it
        ("resources: [ # none yet\n]\n", NEW),
        ("kind: Kustomization\n...\n", sorted(NEW)),  # after the end marker: a second document
        ("kind: Kustomization\n---\nkind: Other\n", sorted(NEW)),
    ],
)
def test_flow_lists_and_document_markers(text: str, resources: list[str]) -> None:
    out = add_resources(text, NEW, "k")
    assert yaml.safe_load_all(out).__next__()["resources"] == resources
    assert ("# why" in out) == ("# why" in text) and out.count("...") == text.count("...")


@pytest.mark.parametrize(
    "text",
    [
        "resources:\n  - ./shop.db.sealedsecret.yaml\n",  # kustomize: one file, listed twice is an error
        "resources:\n  - a/../shop.db.sealedsecret.yaml\n",
        "bases:\n  - shop.db.sealedsecret.yaml\n",
    ],
)
def test_a_file_listed_in_another_spelling_or_as_a_base_is_not_added_again(text: str) -> None:
    assert add_resources(text, ["shop.db.sealedsecret.yaml"], "k") == text


def test_crlf_kustomizations_keep_their_line_breaks() -> None:
    for text in ("kind: Kustomization\r\nresources:\r\n  - a.yaml\r\n", "kind: Kustomization\r\n"):
        out = add_resources(text, NEW, "k")
        assert out.count("\n") == out.count("\r\n") == text.count("\n") + len(NEW) + ("resources" not in text)


def test_an_edit_that_would_change_more_than_resources_is_refused() -> None:
    text = "resources: &r\n  - a.yaml\nnameSuffix: x\nother: *r\n"  # `other` would get the new file too
    with pytest.raises(InputError, match=r"^cannot add the new files to resources in place .*: k$"):
        add_resources(text, ["b.yaml"], "k")
