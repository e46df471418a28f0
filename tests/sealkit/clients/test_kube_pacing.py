"""RateLimitedCaller paces calls below the controller's limit; the first call of a run never waits."""

from __future__ import annotations

from sealkit.clients.kube.proxy import ProxyResponse, RateLimitedCaller


def test_the_first_call_goes_at_once_and_the_next_waits_the_interval() -> None:
    slept: list[float] = []
    caller = RateLimitedCaller(0.001, sleep=slept.append)  # one call per 1,000 s
    ok = ProxyResponse(200, b"", None)
    assert caller.call(lambda: ok) is ok
    assert slept == []  # whatever the machine's uptime (the monotonic clock may start near zero)
    caller.call(lambda: ok)
    assert len(slept) == 1 and 999 < slept[0] <= 1000
