"""kubectl's client flags and how clientcmd applies them to the kubeconfig's context, cluster and user.

Where it sits: inside the one Kubernetes client. The CLI collects kubectl's flags (`--server`, `--token`,
`--as`, `--certificate-authority`, ... as `clientcmd.RecommendedConfigOverrideFlags` binds them for
kubectl and kubeseal) into `ClientOverrides`; `config.load_configuration` applies them here to copies of
the kubeconfig entries before the `kubernetes` package reads them. Plain dict work: no import of
`kubernetes`, so the rules are tested on their own.

clientcmd's rules kept: a given flag replaces the entry's field; `--certificate-authority` or
`--insecure-skip-tls-verify` replaces all of the cluster's CA settings; `--server` or `--tls-server-name`
replaces the TLS server name; `--client-certificate`/`--client-key` replace the file and the inline data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sealkit.errors import InputError


@dataclass(frozen=True)
class Impersonation:
    """`--as`, `--as-group`, `--as-uid` (or the kubeconfig user's `as`, `as-groups`, `as-uid`)."""

    user: str | None = None
    groups: tuple[str, ...] = ()
    uid: str | None = None

    def headers(self) -> list[tuple[str, str]]:
        """The request headers the API server reads (one Impersonate-Group line per group)."""
        if not self.user:
            return []
        out = [("Impersonate-User", self.user)]
        out.extend(("Impersonate-Group", group) for group in self.groups)
        if self.uid:
            out.append(("Impersonate-Uid", self.uid))
        return out


@dataclass(frozen=True)
class ClientOverrides:
    """kubectl's client flags; None (or empty) means "as the kubeconfig says"."""

    namespace: str | None = None
    cluster: str | None = None
    user: str | None = None
    server: str | None = None
    token: str | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    impersonate_uid: str | None = None
    username: str | None = None
    password: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    # Seconds per request; 0 waits forever (kubectl's "0"); None keeps the caller's own timeout.
    request_timeout: float | None = None

    def __repr__(self) -> str:  # the token and password never in a log line or traceback
        given = [name for name, value in vars(self).items() if value not in (None, (), False)]
        return f"ClientOverrides(given={given})"

    def check(self) -> ClientOverrides:
        """clientcmd's refusals, as one line each."""
        if self.insecure_skip_tls_verify and self.certificate_authority:
            raise InputError(
                "give one of them (a CA file with the insecure flag is not allowed)",
                where="--insecure-skip-tls-verify and --certificate-authority",
            )
        if (self.impersonate_groups or self.impersonate_uid) and not self.impersonate:
            raise InputError("impersonating needs a user name too (--as)", where="--as-group/--as-uid")
        if self.request_timeout is not None and self.request_timeout < 0:
            raise InputError("must not be negative", where="--request-timeout")
        return self

    @property
    def needs_kubeconfig_entries(self) -> bool:
        """--cluster/--user name kubeconfig entries: the in-cluster account cannot serve them."""
        return bool(self.cluster or self.user)


def _absolute(path: str) -> str:
    """A path given on the command line, relative to the working directory (not to a kubeconfig)."""
    return str(Path(path).expanduser().absolute())


def apply_cluster(cluster: Mapping[str, Any], overrides: ClientOverrides) -> dict[str, Any]:
    """A copy of a kubeconfig `cluster` entry with the flags applied as clientcmd's getCluster does."""
    out = dict(cluster)
    if overrides.server:
        out["server"] = overrides.server
    if overrides.insecure_skip_tls_verify or overrides.certificate_authority:
        out.pop("certificate-authority-data", None)
        out.pop("certificate-authority", None)
        out["insecure-skip-tls-verify"] = overrides.insecure_skip_tls_verify
        if overrides.certificate_authority:
            out["certificate-authority"] = _absolute(overrides.certificate_authority)
    if overrides.proxy_url:
        out["proxy-url"] = overrides.proxy_url
    if overrides.tls_server_name or overrides.server:
        out.pop("tls-server-name", None)
        if overrides.tls_server_name:
            out["tls-server-name"] = overrides.tls_server_name
    return out


def apply_user(user: Mapping[str, Any], overrides: ClientOverrides) -> tuple[dict[str, Any], Impersonation]:
    """A copy of a kubeconfig `user` entry with the flags applied (getAuthInfo), and who to impersonate."""
    out = dict(user)
    if overrides.token:
        out["token"] = overrides.token
        out.pop("tokenFile", None)
    if overrides.username:
        out["username"] = overrides.username
    if overrides.password:
        out["password"] = overrides.password
    if overrides.client_certificate:
        out.pop("client-certificate-data", None)
        out["client-certificate"] = _absolute(overrides.client_certificate)
    if overrides.client_key:
        out.pop("client-key-data", None)
        out["client-key"] = _absolute(overrides.client_key)
    groups = user.get("as-groups") or ()
    impersonation = Impersonation(
        user=overrides.impersonate or _text(user.get("as")),
        groups=overrides.impersonate_groups or tuple(str(g) for g in groups if isinstance(groups, list)),
        uid=overrides.impersonate_uid or _text(user.get("as-uid")),
    )
    return out, impersonation


def apply_context(context: Mapping[str, Any], overrides: ClientOverrides) -> dict[str, Any]:
    """A copy of a kubeconfig `context` entry naming the cluster, user and namespace the flags chose."""
    out = dict(context)
    if overrides.cluster:
        out["cluster"] = overrides.cluster
    if overrides.user:
        out["user"] = overrides.user
    if overrides.namespace:
        out["namespace"] = overrides.namespace
    return out


def _text(value: object) -> str | None:
    return str(value) if value else None
