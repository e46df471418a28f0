"""A backlog reconciled in batches: one thread-pool job for several keys, each key still its own attempt.

The controller over an in-memory API (no emulator): what a batch changes is only how attempts reach the
thread pool, so the checks are on the attempts' results, per key.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import uuid
from typing import Any

import pytest

from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.reconciling.reconciler import BACKLOG_BATCH, Controller
from sealkit_controller.settings import Settings


class MemoryApi:
    """Secrets in a dict; reading one named in `broken` raises an error no API client raises (a bug)."""

    def __init__(self, broken: str) -> None:
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.broken = broken

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        if name == self.broken:
            raise RuntimeError("secret value 'hunter2' leaked?")
        return self.secrets.get((namespace, name))

    def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        self.secrets[(namespace, body["metadata"]["name"])] = body
        return body

    def patch_sealed_secret_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        return {}

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return {}


def sealed(key: GeneratedKey, name: str) -> dict[str, Any]:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "default"}}
    body = seal_secret({**secret, "stringData": {"v": name}}, load_certificate(key.certificate_pem))
    body["metadata"].update(uid=str(uuid.uuid4()), generation=1)
    return body


@pytest.fixture(scope="module")
def key() -> GeneratedKey:
    return generate_key_pair(bits=2048)


def controller_over(api: MemoryApi, key: GeneratedKey) -> tuple[Controller, concurrent.futures.ThreadPoolExecutor]:
    store = KeyStore()
    store.put("key0", [key.key])
    executor = concurrent.futures.ThreadPoolExecutor(2)
    settings = Settings(workers=1, threads=2, update_status=True)
    return Controller(settings, api, store, executor), executor  # type: ignore[arg-type]


async def test_a_backlog_goes_to_the_pool_in_batches_and_a_bug_stays_with_its_key(
    key: GeneratedKey, caplog: pytest.LogCaptureFixture
) -> None:
    api = MemoryApi(broken="s03")
    controller, executor = controller_over(api, key)
    jobs: list[int] = []
    run_jobs = controller._reconcile_jobs

    def counted(batch: list[Any], term: int) -> Any:
        jobs.append(len(batch))
        return run_jobs(batch, term)

    controller._reconcile_jobs = counted  # type: ignore[method-assign]
    names = [f"s{i:02d}" for i in range(20)]
    controller.start()
    try:
        for name in names:
            controller.observe_sealed_secret(sealed(key, name))
        while controller.queue.pending():
            await asyncio.sleep(0.01)
    finally:
        await controller.stop()
        executor.shutdown()
    # One worker, 20 keys: batches of up to BACKLOG_BATCH while more than one waits, then the last alone.
    assert sum(jobs) == 20 and max(jobs) == BACKLOG_BATCH and jobs[-1] == 1
    # The broken key's error is its own: every other key of its batch was attempted and made its Secret.
    assert sorted(name for _, name in api.secrets) == [n for n in names if n != "s03"]
    assert all(controller.tracked[("default", n)].done for n in names if n != "s03")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("reconciling default/s03 failed: an unexpected error (a bug) at " in w for w in warnings), warnings
    assert not any("RuntimeError" in w for w in warnings), "no Python class name at warning"
    assert "hunter2" not in caplog.text


async def test_a_batch_of_a_stopped_or_earlier_term_opens_nothing_more(key: GeneratedKey) -> None:
    api = MemoryApi(broken="")
    controller, executor = controller_over(api, key)
    try:
        for name in ("a", "b"):
            controller.observe_sealed_secret(sealed(key, name))
        jobs = [(k, t, t.marker, t.body) for k, t in controller.tracked.items()]
        controller.start()
        term = controller.term
        controller.writing = False  # the lease was lost before the job ran
        lost = controller._reconcile_jobs(jobs, term)
        await controller.stop()
        controller.start()  # ... and regained: a job of the earlier term does not go on
        regained = controller._reconcile_jobs(jobs, term)
        current = controller._reconcile_jobs(jobs, controller.term)
        await controller.stop()
    finally:
        executor.shutdown()
    for dones in (lost, regained):
        assert [d.stale for d in dones] == [True, True] and sum(d.rsa_operations for d in dones) == 0
    assert [d.outcome.ok for d in current if d.outcome] == [True, True]
    assert sorted(name for _, name in api.secrets) == ["a", "b"]  # only the current term's job wrote
