"""Fuzzing the bounded reader: any bytes end in documents or one InputError line without the planted value."""

from __future__ import annotations

from hypothesis import example, given

from sealkit.errors import InputError
from sealkit.reading import Limits, compose_documents, load_documents
from tests.support.fuzzing import FUZZ, INPUTS, SEEDS, leaks


@FUZZ
@given(INPUTS)
@example(SEEDS["bomb.yaml"])
@example(SEEDS["nested.yaml"])
@example(SEEDS["duplicate.yaml"])
def test_reader_returns_documents_or_one_clean_line(data: bytes) -> None:
    try:
        documents = load_documents(data, "fuzz.yaml", limits=Limits(max_bytes=64 * 1024))
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and ": fuzz.yaml" in message, message
        assert not leaks(message), message
        return
    for document in documents:
        assert document.obj is not None


@FUZZ
@given(INPUTS)
@example(SEEDS["duplicate.yaml"])
def test_the_one_parse_reader_agrees_with_the_full_check_whenever_it_answers(data: bytes) -> None:
    """`compose_documents` (seal --env's in-place update) reads or refuses exactly as `load_documents` does."""
    limits = Limits(max_bytes=64 * 1024)
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return
    try:
        composed = compose_documents(text, "fuzz.yaml", limits=limits)
    except InputError as exc:
        try:
            load_documents(text, "fuzz.yaml", limits=limits)
        except InputError as full:
            assert str(exc) == str(full)
            return
        raise AssertionError(f"refused only by the one-parse reader: {exc}") from None
    if composed is not None:
        assert [doc for doc, _ in composed] == load_documents(text, "fuzz.yaml", limits=limits)
