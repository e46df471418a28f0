"""`sealkit_cli.controllerprocess`: the controller as a process of its own; one that ends before serving is
one clear error (no wait on a timer: its pipe closes), and its log keeps what it said."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealkit_cli.controllerprocess import ControllerDidNotStart, ControllerProcess


def test_a_controller_that_ends_before_serving_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "controller.log"
    process = ControllerProcess(tmp_path / "no-such-kubeconfig", log, key_size=2048)
    with pytest.raises(ControllerDidNotStart) as caught:
        process.start()
    assert str(caught.value) == "the controller did not start (it ended; see its log)"
    assert process.pid is None and process.stop() not in (None, 0)  # reaped, with its failing status
    assert "no-such-kubeconfig" in log.read_text()  # the controller's own error line went to the log
