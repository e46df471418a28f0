"""Verify and re-encrypt over files and directories: per-document results, progress and a summary.

Text results are printed as each document is decided (stdout is line-buffered in pipes, see `terminal`),
JSON once at the end (one document); progress lines go to stderr only when it is a terminal.
Every file is read (through the core's bounded reader) before any work starts: an unreadable file is
an input error (exit 2), and so is a tree without a SealedSecret unless --allow-empty. A
connection-level failure (`ConnectionFailure`) ends the run at once; other failures are reported per
document (exit 1).
"""

from __future__ import annotations

import json
import stat
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click

from sealkit.documents import Document, load_documents
from sealkit.errors import EXIT_CHECK_FAILED, ConnectionFailure, InputError, SealkitError, os_reason
from sealkit.files import manifest_files
from sealkit.reading import decode_text, read_file
from sealkit.sealedsecret import is_sealed_secret, listed_sealed_secrets, unreadable_list
from sealkit.yamledit import replace_values, set_annotations
from sealkit_cli import io, terminal

# One document's work: None for "nothing to write" (verify), or the new encryptedData values.
Check = Callable[[Document], dict[str, str] | None]


@dataclass
class DocumentResult:
    path: str
    document: int
    name: str
    namespace: str
    ok: bool
    error: str | None = None
    changed: bool = False
    item: int | None = None  # its position in a List document (None: the document is the SealedSecret)


class ListItem(Document):
    """A SealedSecret that is item `item` (1-based) of the List that is document `index` of its file."""

    __slots__ = ("item",)

    item: int

    def __init__(self, obj: Any, source: str, index: int, item: int) -> None:
        super().__init__(obj, source, index)
        object.__setattr__(self, "item", item)

    @property
    def where(self) -> str:
        return f"{self.source} document {self.index} item {self.item}"


@dataclass
class FileResult:
    path: str
    documents: list[DocumentResult] = field(default_factory=list)
    error: str | None = None
    rewritten: bool = False


@dataclass
class Plan:
    """The SealedSecret documents found, file by file, before any work starts."""

    files: list[tuple[Path, str, list[Document]]]

    @property
    def total(self) -> int:
        return sum(len(docs) for _, _, docs in self.files)


def plan(
    paths: tuple[str, ...],
    *,
    allow_empty: bool = False,
    inside: Callable[[Path], None] | None = None,
    in_place: bool = False,
) -> Plan:
    """Every SealedSecret under `paths`, the items of List documents included; an unreadable file, or none
    found (unless allowed), is an error, and so is a file `inside` refuses (`reencrypt --env`: a link out of
    the repo), before any work starts. `in_place` (re-encrypting): a pipe or device is an error (what is read
    from it cannot be written back), and so is a List holding a SealedSecret (its items are not rewritten),
    never skipped."""
    files: list[tuple[Path, str, list[Document]]] = []
    named = {str(Path(p)) for p in paths}
    for path in manifest_files(paths):
        if str(path) not in named:
            refuse_special_file(path)
        if inside is not None:
            inside(path)
        if in_place:
            io.output_target(str(path), stream_refused=io.IN_PLACE_STREAM)
        text = decode_text(read_file(path), str(path))
        sealed: list[Document] = []
        for doc in load_documents(text, str(path)):
            if is_sealed_secret(doc.obj):
                sealed.append(doc)
                continue
            if why := unreadable_list(doc.obj):
                raise InputError(why, where=doc.where)
            for item, obj in listed_sealed_secrets(doc.obj):
                if in_place:
                    raise InputError(
                        "a SealedSecret inside a List is not re-encrypted in place "
                        "(give it a document of its own: ---)",
                        where=f"{doc.where} item {item}",
                    )
                sealed.append(ListItem(obj, doc.source, doc.index, item))
        if sealed:
            files.append((path, text, sealed))
    if not files and not allow_empty:
        raise InputError(
            "no SealedSecrets found under PATHS (pass --allow-empty to accept that)", where=", ".join(paths)
        )
    return Plan(files)


def refuse_special_file(path: Path) -> None:
    """A file found in a directory must be a regular file (links followed): a named pipe would block the run
    for ever, a device could be read without end. Named on the command line they are read as streams
    (`sealkit verify <(kustomize build ...)`, /dev/stdin)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # its read says why
    if not stat.S_ISREG(mode):
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise InputError(
            f"{kind}, not a regular file: only regular files are read from a directory (name it to read it)",
            where=str(path),
        )


class Progress:
    """A line on stderr every few seconds on long runs, when stderr is a terminal."""

    def __init__(self, total: int, *, every: float = 2.0, show: bool | None = None) -> None:
        self.total, self.every = total, every
        self.show = terminal.on_terminal() if show is None else show
        self.done = 0
        self.started = self._last = time.monotonic()

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.show and self.total >= 20 and now - self._last >= self.every:
            self._last = now
            rate = self.done / max(now - self.started, 1e-9)
            left = (self.total - self.done) / rate if rate else 0
            click.echo(f"[{self.done}/{self.total}] {rate:.1f}/s, about {left:.0f}s left", err=True)


def _meta(doc: Document) -> tuple[str, str]:
    meta = doc.obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name, namespace = meta.get("name"), meta.get("namespace")
    return (name if isinstance(name, str) else ""), (namespace if isinstance(namespace, str) else "")


class Report:
    """The run's results: text lines as each document is decided, then a summary; JSON all at the end."""

    def __init__(self, fmt: str, verb: str) -> None:
        self.fmt, self.verb = fmt, verb

    def document(self, d: DocumentResult) -> None:
        if self.fmt != "text":
            return
        if d.ok:
            label = f"{d.namespace + '/' if d.namespace else ''}{d.name}"
            item = f" item {d.item}" if d.item is not None else ""
            click.echo(f"ok    {d.path} document {d.document}{item} ({label}){' re-encrypted' if d.changed else ''}")
        else:
            click.echo(f"FAIL  {d.error}")

    def file_error(self, f: FileResult) -> None:
        if self.fmt == "text":
            click.echo(f"ERROR {f.error}")

    def finish(self, results: list[FileResult]) -> bool:
        """Print the summary (JSON: everything); True when everything succeeded."""
        documents = [d for f in results for d in f.documents]
        failed_docs = [d for d in documents if not d.ok]
        file_errors = [f for f in results if f.error]
        summary = {
            "files": len(results),
            "sealedSecrets": len(documents),
            "ok": len(documents) - len(failed_docs),
            "failed": len(failed_docs),
            "fileErrors": len(file_errors),
            "rewrittenFiles": sum(1 for f in results if f.rewritten),
        }
        if self.fmt == "json":
            payload = {"results": [asdict(f) for f in results], "summary": summary}
            click.echo(json.dumps(payload, indent=2))
        else:
            click.echo(
                f"{summary['sealedSecrets']} SealedSecrets in {summary['files']} files: {summary['ok']} {self.verb}, "
                f"{summary['failed']} failed" + (f", {summary['fileErrors']} unreadable files" if file_errors else "")
            )
        return not failed_docs and not file_errors


def run(
    work: Plan,
    check: Check,
    *,
    rewrite: bool,
    report: Report,
    annotations: Mapping[str, str] | None = None,
) -> list[FileResult]:
    """Check every document, telling `report` each result at once; rewritten documents also get
    `annotations` (provenance) in their metadata. A ConnectionFailure propagates (it ends the run); other
    errors are per-document results."""
    results: list[FileResult] = []
    progress = Progress(work.total)
    for path, text, documents in work.files:
        file_result = FileResult(str(path))
        edits: dict[int, dict[str, str]] = {}
        for doc in documents:
            name, namespace = _meta(doc)
            item = doc.item if isinstance(doc, ListItem) else None
            try:
                new_values = check(doc)
            except ConnectionFailure:
                raise
            except SealkitError as exc:
                result = DocumentResult(str(path), doc.index, name, namespace, False, str(exc), item=item)
            else:
                result = DocumentResult(
                    str(path), doc.index, name, namespace, True, changed=bool(new_values), item=item
                )
                if new_values:
                    edits[doc.index] = new_values
            file_result.documents.append(result)
            report.document(result)
            progress.step()
        if rewrite and edits:
            try:
                new_text = replace_values(text, edits, str(path))
                for index in sorted(edits) if annotations else ():
                    new_text = set_annotations(new_text, index, annotations or {}, str(path))
                io.write_output(new_text, str(path), mode=_mode(path), in_place=True)
                file_result.rewritten = True
            except SealkitError as exc:
                file_result.error = str(exc)
                report.file_error(file_result)
        results.append(file_result)
    return results


def _mode(path: Path) -> int:
    """The permission bits the rewritten file keeps; a file gone or refused since it was read is an error
    naming it (never a bare OS error, never a file made anew)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError as exc:
        raise InputError(f"cannot write ({os_reason(exc)})", where=str(path)) from None


def announce_controller_run(total: int, rate: float) -> None:
    """The expected duration of a paced run through the controller, for a person watching (stderr, terminal)."""
    if total and rate > 0 and terminal.on_terminal():
        click.echo(
            f"{total} SealedSecrets through the controller at up to {rate:g}/s: about {total / rate:.0f}s",
            err=True,
        )


def exit_with(ok: bool) -> None:
    sys.exit(0 if ok else EXIT_CHECK_FAILED)
