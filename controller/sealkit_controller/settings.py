"""What the controller is told to do: one dataclass, built from flags/env by the CLI or directly by tests.

Bitnami's flags and defaults are kept (names, Go durations, RFC 1123Z cutoff) so a deployment can switch
controllers by changing the image only. Timing knobs below the Bitnami ones exist so tests can run fast.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from sealkit.bitnami import DEFAULT_CONTROLLER_NAMESPACE, SEALING_KEY_PREFIX
from sealkit.errors import InputError

SERVICE_ACCOUNT_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def parse_cutoff(text: str) -> dt.datetime | None:
    """--key-cutoff-time: RFC 1123Z as Bitnami takes it ("Mon, 02 Jan 2006 15:04:05 -0700"), or ISO 8601."""
    raw = text.strip()
    if not raw:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        try:
            when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"{text!r} is neither RFC 1123Z (Mon, 02 Jan 2006 15:04:05 -0700) nor ISO 8601",
                where="--key-cutoff-time",
            ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when


def parse_map(text: str, what: str) -> dict[str, str]:
    """ "k=v,k2=v2" as Bitnami's --privatekey-labels/--privatekey-annotations take it."""
    out: dict[str, str] = {}
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{item!r} is not key=value", where=what)
        out[key.strip()] = value.strip()
    return out


def parse_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_listen_address(text: str, what: str) -> tuple[str | None, int] | None:
    """A Go listen address (":8080", "127.0.0.1:8080", "[::1]:8080"): (host or None for all, port); "" = off."""
    raw = text.strip()
    if not raw:
        return None
    host, sep, port_text = raw.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise InputError(
            f"{text!r} is not a listen address (e.g. :8080 or 127.0.0.1:8080; empty turns it off)", where=what
        )
    host = host.strip("[]")
    return (host or None), int(port_text)


def default_namespace(environ: dict[str, str] | None = None, sa_file: Path = SERVICE_ACCOUNT_NAMESPACE_FILE) -> str:
    """The controller's own namespace: POD_NAMESPACE, else the service account's, else kube-system."""
    env = os.environ if environ is None else environ
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        text = sa_file.read_text().strip()
    except OSError:
        text = ""
    return text or DEFAULT_CONTROLLER_NAMESPACE


# The largest --key-size: generating a bigger RSA key takes many minutes (the controller could not serve meanwhile).
MAX_KEY_SIZE = 16384

# client-go's rest.DefaultQPS and DefaultBurst: what --kubeclient-qps 0 / --kubeclient-burst 0 mean.
DEFAULT_KUBECLIENT_QPS = 5.0
DEFAULT_KUBECLIENT_BURST = 10

CERT_NOT_BEFORE = "CertNotBefore"
SECRET_CREATION_TIMESTAMP = "SecretCreationTimestamp"  # noqa: S105 - a flag value, not a secret
KEY_ORDER_PRIORITIES = (CERT_NOT_BEFORE, SECRET_CREATION_TIMESTAMP)


def default_workers(cpus: int | None = None) -> int:
    """SealedSecrets reconciled at once when --workers is not given: 2 per CPU the process may use."""
    from sealkit.cpus import allowed_cpus

    return 2 * (cpus if cpus is not None else allowed_cpus())


def default_threads(cpus: int | None = None) -> int:
    """The thread pool when --threads is not given: the default workers' count and 4 more (events, keys, Kopf)."""
    return default_workers(cpus) + 4


MAX_PARALLEL = 1024  # --workers and --threads: far above what a controller's CPUs keep busy


@dataclass(frozen=True)
class Settings:
    """Everything the controller reads; defaults are Bitnami's. Immutable: a run's settings never change.

    The escrow credential is not a setting: it is passed beside them (see `sealkit_controller.run`).
    """

    # Where the API server is (kubectl's order; see sealkit.clients.kube.config.load_configuration).
    kubeconfig: str | None = None
    context: str | None = None
    # The controller's own namespace: where key Secrets live.
    namespace: str = DEFAULT_CONTROLLER_NAMESPACE
    # Keys.
    key_prefix: str = SEALING_KEY_PREFIX
    key_size: int = 4096
    key_ttl: dt.timedelta = dt.timedelta(hours=87600)
    my_cn: str = ""
    key_renew_period: dt.timedelta = dt.timedelta(hours=720)
    key_cutoff_time: dt.datetime | None = None
    private_key_labels: dict[str, str] = field(default_factory=dict)
    private_key_annotations: dict[str, str] = field(default_factory=dict)
    # Which key is "newest" (seals, and dates renewal): its certificate's NotBefore, or its Secret's creation.
    key_order_priority: str = CERT_NOT_BEFORE
    # Accepted for Bitnami compatibility, always on: key Secrets are watched (new keys are used at once).
    watch_for_secrets: bool = False
    # Unsealing.
    update_status: bool = True
    skip_recreate: bool = False
    max_unseal_retries: int = 5
    accept_deprecated_v1_data: bool = True
    # Delete the Secret when its SealedSecret is deleted (besides the ownerReference the API server follows).
    old_gc_behavior: bool = False
    # Watching: all namespaces, or (all_namespaces=False) the own namespace plus the additional ones; within
    # those, only namespaces whose labels match namespace_selector, and SealedSecrets matching label_selector.
    all_namespaces: bool = True
    additional_namespaces: tuple[str, ...] = ()
    label_selector: str = ""
    namespace_selector: str = ""
    # HTTP API (:8080: healthz, cert, verify, rotate) and Prometheus metrics (:8081); "" turns one off.
    listen_addr: str = ":8080"
    listen_metrics_addr: str = ":8081"
    rate_limit: float = 2.0
    rate_limit_burst: int = 2
    # Peers whose X-Forwarded-For is believed for the rate limit (addresses or CIDRs; none by default).
    trusted_proxies: tuple[str, ...] = ()
    read_timeout: dt.timedelta = dt.timedelta(minutes=2)
    write_timeout: dt.timedelta = dt.timedelta(minutes=2)
    # The controller's own API requests (not watches): client-go's client-side limit. Bitnami's defaults;
    # a negative qps turns the limit off, 0 means client-go's defaults (5/s, burst 10). See kube_rate().
    kubeclient_qps: float = 5.0
    kubeclient_burst: int = 10
    # Prometheus: leave out condition_info, the one metric that names each SealedSecret (Bitnami 0.39).
    metrics_omit_secret_labels: bool = False
    # Key escrow to Azure Key Vault (docs/disaster-recovery.md): on when both are set.
    escrow_vault: str = ""  # the vault's name (public cloud, or $SEALKIT_VAULT_URL_<NAME>) or https:// URL
    escrow_cluster_name: str = ""
    escrow_auth: str = "default"  # how `sealkit controller` builds the azure-identity credential
    escrow_accept_challenge_resources: tuple[str, ...] = ()
    escrow_timeout: float = 10.0
    # Leader election (docs/high-availability.md): on for more than one replica. A Lease of this name in the
    # controller's namespace; client-go's default timings. Off: one replica, no Lease.
    leader_elect: bool = False
    leader_elect_lease_name: str = "sealed-secrets-controller"
    leader_elect_lease_duration: float = 15.0
    leader_elect_renew_deadline: float = 10.0
    leader_elect_retry_period: float = 2.0
    # Wrapped keys (docs/wrapped-keys.md): the key-encryption key's Key Vault / Managed HSM key URL, with or
    # without version. Set: every key the controller makes is stored wrapped, never in plaintext. Wrapped key
    # Secrets found are opened with the KEK version they record either way (with the credential below).
    kek_url: str = ""
    kek_auth: str = "default"
    kek_accept_challenge_resources: tuple[str, ...] = ()
    kek_timeout: float = 10.0
    # Events about the controller itself (no new key can be wrapped) go on its Deployment, else its Pod.
    deployment_name: str = field(default_factory=lambda: os.environ.get("SEALKIT_DEPLOYMENT_NAME", ""))
    # Logging: info (and debug) lines to stdout and warnings/errors to stderr, or (False) all to stderr.
    log_level: str = "INFO"
    log_format: str = "text"
    log_info_stdout: bool = True
    # Concurrency and timing (not Bitnami flags; tests shrink them). Workers and threads follow the CPUs the
    # container may use (`plumbing.cpus`): 2 per CPU (one unseals while another waits for the API server),
    # and 4 threads more than workers for events, keys and Kopf (2 CPUs: 4 and 8).
    workers: int = field(default_factory=lambda: default_workers())
    threads: int = field(default_factory=lambda: default_threads())
    api_timeout: float = 30.0
    retry_base_delay: float = 1.0
    retry_max_delay: float = 300.0
    key_check_interval: float = 3600.0
    # Every replica lists the key Secrets again this often (less up to a fifth, at random): a key Secret deleted
    # while its watch did not say so (a watch resumed by listing again reports no deletions) leaves the key ring.
    key_resync_interval: float = 300.0
    watch_server_timeout: float | None = None
    watch_error_backoffs: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0)
    # A reporting instance for events (the pod name in a cluster).
    instance: str = field(default_factory=lambda: os.environ.get("POD_NAME") or os.environ.get("HOSTNAME") or "")

    def identity(self) -> str:
        """Who this controller is, to Kopf and in events: the pod name, else host name and process id.

        Given to Kopf explicitly: left to itself Kopf reads POD_ID and then asks the passwd database for
        the user name, which a non-root image user (uid 65532) may not have (a crash at start).
        """
        return self.instance or f"{socket.gethostname()}-{os.getpid()}"

    def kube_rate(self) -> tuple[float, int]:
        """The client-side limit as client-go applies --kubeclient-qps/--kubeclient-burst: (qps, burst).

        0 takes client-go's defaults (5, 10); a negative qps is no limit (returned as 0: `Throttle` off).
        """
        qps = DEFAULT_KUBECLIENT_QPS if self.kubeclient_qps == 0 else max(self.kubeclient_qps, 0.0)
        burst = self.kubeclient_burst or DEFAULT_KUBECLIENT_BURST
        return qps, burst

    @property
    def escrow_enabled(self) -> bool:
        return bool(self.escrow_vault and self.escrow_cluster_name)

    def escrow_vault_url(self) -> str:
        """The escrow vault's URL: given as one, else from its name (see sealkit.vault.urls)."""
        from sealkit.vault.urls import vault_url

        return vault_url(self.escrow_vault, "--escrow-vault", {}, os.environ)

    @property
    def wraps_keys(self) -> bool:
        return bool(self.kek_url)

    def watched_namespaces(self) -> list[str] | None:
        """None for cluster-wide; else the own namespace and the additional ones (Bitnami's rule)."""
        if self.all_namespaces:
            return None
        return sorted({self.namespace, *self.additional_namespaces})

    def _validate_election(self) -> None:
        """client-go's rules: lease duration > renew deadline > 1.2 x retry period > 0 (whole lease seconds)."""
        lease, renew, retry = (
            self.leader_elect_lease_duration,
            self.leader_elect_renew_deadline,
            self.leader_elect_retry_period,
        )
        if lease < 1:
            raise InputError(
                f"the lease duration ({lease:g}s) must be at least 1s", where="--leader-elect-lease-duration"
            )
        if not 0 < renew < int(lease):
            raise InputError(
                f"the renew deadline ({renew:g}s) must be positive and shorter than the lease duration ({int(lease)}s)",
                where="--leader-elect-renew-deadline",
            )
        if not 0 < retry * 1.2 < renew:
            raise InputError(
                f"the retry period ({retry:g}s) must be positive and 1.2 times it shorter than the renew deadline "
                f"({renew:g}s)",
                where="--leader-elect-retry-period",
            )
        if self.leader_elect and not re.fullmatch(
            r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", self.leader_elect_lease_name
        ):
            raise InputError(
                f"lease name {self.leader_elect_lease_name!r} is not a valid object name "
                "(lower-case letters, digits, '-' and '.')",
                where="--leader-elect-lease-name",
            )

    def _validate_numbers(self) -> None:
        """Sizes, rates, counts and durations within what the controller can use."""
        if self.key_size < 2048:
            raise InputError(f"key size {self.key_size} is too small: use at least 2048 bits", where="--key-size")
        if self.key_size > MAX_KEY_SIZE:
            raise InputError(
                f"key size {self.key_size} is too large: use at most {MAX_KEY_SIZE} bits", where="--key-size"
            )
        for value, flag in ((self.rate_limit, "--rate-limit"), (self.kubeclient_qps, "--kubeclient-qps")):
            if not math.isfinite(value):
                raise InputError(f"{value} is not a number of requests a second", where=flag)
        if self.key_renew_period < dt.timedelta(0):
            raise InputError("must not be negative (0 disables renewal)", where="--key-renew-period")
        if self.key_ttl <= dt.timedelta(0):
            raise InputError("must be positive", where="--key-ttl")
        if self.max_unseal_retries < 0:
            raise InputError("must not be negative", where="--max-unseal-retries")
        for count, flag in ((self.workers, "--workers"), (self.threads, "--threads")):
            if not 1 <= count <= MAX_PARALLEL:  # more only holds memory: a thread or a reconcile per unit
                raise InputError(f"must be from 1 to {MAX_PARALLEL}", where=flag)
        if self.rate_limit < 0:
            raise InputError("must not be negative", where="--rate-limit")
        if self.rate_limit_burst < 1:
            raise InputError("must be at least 1", where="--rate-limit-burst")
        if self.kubeclient_burst < 0:
            raise InputError("must not be negative (0: client-go's default, 10)", where="--kubeclient-burst")
        for timeout, flag in ((self.read_timeout, "--read-timeout"), (self.write_timeout, "--write-timeout")):
            if timeout <= dt.timedelta(0):
                raise InputError("must be positive", where=flag)

    def _validate_names(self) -> None:
        """What the controller puts in API requests: refused here, not by the API server at its first key."""
        from sealkit.validation import LABEL_RULE, annotations_problems, is_dns_label, is_dns_subdomain, labels_problems

        for namespace, where in [
            (self.namespace, "-n/--namespace (or $POD_NAMESPACE)"),
            *((n, "--additional-namespaces") for n in self.additional_namespaces),
        ]:
            if not is_dns_label(namespace):
                raise InputError(f"{namespace!r} is not a valid namespace name ({LABEL_RULE} characters)", where=where)
        # generateName: the API server appends 5 characters and checks the result as an object name.
        if not self.key_prefix or not is_dns_subdomain(f"{self.key_prefix}x"[:253]) or len(self.key_prefix) > 248:
            raise InputError(
                f"{self.key_prefix!r} is not a valid name prefix (lower-case letters, digits, '-' and '.', "
                "starting with a letter or digit, at most 248 characters)",
                where="--key-prefix",
            )
        if len(self.my_cn.encode()) > 64:  # X.509's bound: cryptography refuses it at every new key
            raise InputError(f"is {len(self.my_cn.encode())} bytes long: a common name has at most 64", where="--my-cn")
        for check, values, flag in (
            (labels_problems, self.private_key_labels, "--privatekey-labels"),
            (annotations_problems, self.private_key_annotations, "--privatekey-annotations"),
        ):
            problems = check(values, flag)
            if problems:
                item = problems[0].field[len(flag) :].strip("[]")
                raise InputError(f"{item} {problems[0].message}" if item else problems[0].message, where=flag)

    def validate(self) -> Settings:
        self._validate_numbers()
        self._validate_names()
        if self.log_format not in ("text", "json"):
            raise InputError("choose text or json", where="--log-format")
        if self.key_order_priority not in KEY_ORDER_PRIORITIES:
            raise InputError(f"choose {' or '.join(KEY_ORDER_PRIORITIES)}", where="--key-order-priority")
        from sealkit_controller.serving.httpapi import parse_trusted_proxies

        parse_trusted_proxies(self.trusted_proxies)
        parse_listen_address(self.listen_addr, "--listen-addr")
        parse_listen_address(self.listen_metrics_addr, "--listen-metrics-addr")
        from sealkit_controller.reconciling.selectors import parse_selector

        parse_selector(self.label_selector, "--label-selector")
        parse_selector(self.namespace_selector, "--namespace-selector")
        self._validate_election()
        if bool(self.escrow_vault) != bool(self.escrow_cluster_name):
            raise InputError(
                "key escrow needs both the vault and the cluster name (or neither); this one is missing",
                where="--escrow-cluster-name" if self.escrow_vault else "--escrow-vault",
            )
        if self.escrow_enabled:
            from sealkit.escrow.scheme import check_cluster_name

            check_cluster_name(self.escrow_cluster_name, where="--escrow-cluster-name")
            self.escrow_vault_url()
            if self.escrow_timeout <= 0:
                raise InputError("must be positive", where="--escrow-timeout")
        if self.kek_url:
            from sealkit.wrapping.kekid import parse_kek_id

            parse_kek_id(self.kek_url, "--kek-url")
        if self.kek_timeout <= 0:
            raise InputError("must be positive", where="--kek-timeout")
        return self
