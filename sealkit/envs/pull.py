"""`certs pull`: an environment's committed certificate compared with what its cluster serves now.

Where it sits: the core, between the CLI (which fetches each certificate) and `sealkit.filewrites`. The
committed file gets the served certificate; the one it replaces goes to the top of the environment's
`previous` file (when the spec names one), so files sealed with it are known as "older, same cluster"
(lint: reseal) rather than "another cluster". `--check` writes nothing and reports a committed
certificate that is stale (not the one the cluster serves) or expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sealkit.certificates import refuse_not_yet_valid, sealing_key_certificate
from sealkit.csi.model import Environment, Spec
from sealkit.envs.certs import EnvironmentCerts, KnownCert
from sealkit.errors import InputError
from sealkit.files import refuse_link_out_of_repo
from sealkit.filewrites import FileChange, current_text
from sealkit.provenance import short


@dataclass
class PullResult:
    env: str
    status: str  # "unchanged", "changed", "new", "no-source", "no-file", "expired"
    message: str
    changes: list[FileChange] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        """What --check fails on: the committed certificate is not the served one, or is expired."""
        return self.status in ("changed", "new", "expired")


def _pem_text(certs: list[KnownCert]) -> str:
    return "".join(c.pem.decode() for c in certs)


def expiry_problem(cert: KnownCert, where: str, now: dt.datetime | None = None) -> str | None:
    if cert.expired(now):
        return f"expired on {cert.not_after:%Y-%m-%d}: {where}"
    return None


def offline_status(env: Environment, known: EnvironmentCerts, now: dt.datetime | None = None) -> PullResult:
    """An environment with nothing to pull from (a file only, or nothing committed)."""
    source = env.cert_source
    if not source.file:
        return PullResult(
            env.name, "no-file", f"{env.name}: fetched at each run from {source.describe()}: nothing committed"
        )
    newest = known.newest
    if newest is None:
        return PullResult(
            env.name, "expired", f"{env.name}: no certificate committed and nothing to pull from: {source.file}"
        )
    # Judged as sealing judges it (it is what `seal --env` will take): a key not RSA or under 2048 bits, a CA
    # first, not yet valid: an error, as for a served certificate; expired: reported, for --check to fail on.
    where = f"{source.file} (environment {env.name})"
    refuse_not_yet_valid(sealing_key_certificate(b"".join(c.pem for c in known.current), where), where, now)
    problem = expiry_problem(newest, source.file, now)
    if problem:
        return PullResult(env.name, "expired", f"{env.name}: {short(newest.sha256)} {problem}")
    return PullResult(
        env.name, "no-source", f"{env.name}: {short(newest.sha256)} (no url or context to pull from): {source.file}"
    )


def compare(
    spec: Spec, env: Environment, known: EnvironmentCerts, served: KnownCert, now: dt.datetime | None = None
) -> PullResult:
    """The committed file against the served certificate, with the file changes that bring it up to date."""
    source = env.cert_source
    assert source.file is not None
    newest = known.newest
    if served.expired(now):
        return PullResult(env.name, "expired", f"{env.name}: the cluster's certificate {short(served.sha256)} "
                          f"expired on {served.not_after:%Y-%m-%d}: {source.describe()}")  # fmt: skip
    file_path = spec.root / source.file
    root = spec.root.resolve()
    refuse_link_out_of_repo(file_path, root, source.file)  # what is pulled must land in the repo
    if source.previous and (spec.root / source.previous).resolve() == file_path.resolve():
        # The replaced certificate would go to the file the served one replaces: lost, whatever the message said.
        raise InputError(
            f"environment {env.name}'s previous certificates are kept in its sealing certificate file; "
            "name another file for sealingCert.previous",
            where=source.previous,
        )
    if newest is None:
        change = FileChange(file_path, _pem_text([served]), None)
        return PullResult(env.name, "new", f"{env.name}: new {short(served.sha256)}: {source.file}", [change])
    if newest.sha256 == served.sha256 and len(known.current) == 1:
        return PullResult(env.name, "unchanged", f"{env.name}: unchanged {short(served.sha256)}: {source.file}")
    changes = [FileChange(file_path, _pem_text([served]), current_text(file_path, source.file))]
    replaced = [c for c in known.current if c.sha256 != served.sha256]
    if newest.sha256 == served.sha256:  # the same certificate, with others after it in the file
        message = f"{env.name}: {short(served.sha256)} kept alone, {len(replaced)} more certificate(s) in the file"
        message += f": {source.file}"
    else:
        message = f"{env.name}: changed {short(newest.sha256)} -> {short(served.sha256)}: {source.file}"
    if source.previous:
        history = [*replaced, *(c for c in known.previous if c.sha256 not in {r.sha256 for r in replaced})]
        history = [c for c in history if c.sha256 != served.sha256]
        previous_path = spec.root / source.previous
        refuse_link_out_of_repo(previous_path, root, source.previous)
        if [c.sha256 for c in history] != [c.sha256 for c in known.previous]:
            changes.append(FileChange(previous_path, _pem_text(history), current_text(previous_path, source.previous)))
        message += f" (the replaced {_ones(replaced)} to {source.previous})"
    elif replaced:
        message += f" (the replaced {_ones(replaced, 'is', 'are')} not kept: name sealingCert.previous to keep it)"
    return PullResult(env.name, "changed", message, changes)


def _ones(replaced: list[KnownCert], one: str = "goes", more: str = "go") -> str:
    return f"ones {more}" if len(replaced) > 1 else f"one {one}"


def refuse_another_environments(served: dict[str, KnownCert], known: dict[str, EnvironmentCerts]) -> None:
    """Refuses a cluster (or URL) that serves a certificate another environment holds (committed, or served in
    this run) in place of its own: a context or URL that reaches the wrong cluster, which would have sealing
    for this environment use the other's key (prod's secrets opened by whoever holds dev's). A certificate
    already committed for both environments (a key shared on purpose) stays as it is.

    `served`: environment -> what its source serves now; `known`: every environment's committed certificates.
    """
    for name, cert in served.items():
        own = known[name].newest
        if own is not None and own.sha256 == cert.sha256:
            continue
        holders = [
            other
            for other in known
            if other != name
            and (
                any(c.sha256 == cert.sha256 for c in known[other].all())
                or (other in served and served[other].sha256 == cert.sha256)
            )
        ]
        if holders:
            raise InputError(
                f"the certificate {short(cert.sha256)} served for environment {name} is environment "
                f"{holders[0]}'s: is that {name}'s cluster? (a key shared on purpose: commit the file by hand)",
                where=cert.source,
            )
