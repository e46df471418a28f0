"""Scale: 1,000 objects created under an open watch all arrive; selectors still apply at that size.

(Per-request cost from 100 to 10,000 objects is measured by benchmarks/bench_kube_emulator.py, not here:
tests make no wall-clock assertions.)"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from sealkit_testservers.kube import KubeServer

BASE = "/apis/bitnami.com/v1alpha1/namespaces/default/sealedsecrets"


def _body(n: int) -> bytes:
    return json.dumps(
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": f"s{n:04d}", "labels": {"batch": str(n % 7)}},
            "spec": {"encryptedData": {"k": "AgB" + "x" * 64}},
        }
    ).encode()


@pytest.mark.slow
async def test_thousand_objects_under_a_watch(kube: KubeServer) -> None:
    added: set[str] = set()
    async with aiohttp.ClientSession() as session:

        async def watch() -> None:
            params = {"watch": "true", "labelSelector": "batch", "timeoutSeconds": "60"}
            async with session.get(kube.url + BASE, params=params) as response:
                async for line in response.content:
                    event = json.loads(line)
                    if event["type"] == "ADDED":
                        added.add(event["object"]["metadata"]["name"])
                        if len(added) == 1000:
                            return

        watcher = asyncio.create_task(watch())
        await kube.await_for(lambda k: k.call(lambda: len(k.emulator.disruptions.streams)) == 1)
        headers = {"Content-Type": "application/json"}

        async def create(upto: int, start: int) -> None:
            for n in range(start, upto):
                async with session.post(kube.url + BASE, data=_body(n), headers=headers) as response:
                    assert response.status == 201

        await create(1000, 0)
        await asyncio.wait_for(watcher, 30)

    assert len(added) == 1000
    assert len(kube.list("bitnami.com/v1alpha1", "SealedSecret", "default", label_selector="batch=3")) == 143
