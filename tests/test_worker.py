"""The RQ worker classes operators start (``-w agnozys.worker.Worker``).

Needs ``REDIS_TEST_URL``, like tests/test_ladder_rq.py.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from redis import Redis
from rq import Queue

from agnozys import worker as worker_module

pytestmark = pytest.mark.redis


@pytest.mark.parametrize("kind", ["Worker", "SimpleWorker"])
def test_a_worker_told_to_stop_exits_within_seconds(
    kind: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app is not needed to listen for commands.
    monkeypatch.setattr(worker_module, "preload", lambda: None)
    connection = Redis.from_url(redis_url)
    worker = getattr(worker_module, kind)(
        [Queue("agnozys", connection=connection)], connection=connection
    )
    received: list[dict[str, Any]] = []
    arrived = threading.Event()

    def record(message: dict[str, Any]) -> None:
        received.append(json.loads(message["data"]))
        arrived.set()

    monkeypatch.setattr(worker, "handle_payload", record)
    worker.subscribe()
    try:
        # Commands (rq suspend, kill-horse) still reach the worker.
        deadline = time.monotonic() + 5
        while not connection.pubsub_numsub(worker.pubsub_channel_name)[0][1]:
            assert time.monotonic() < deadline, "the worker never subscribed"
            time.sleep(0.05)
        connection.publish(worker.pubsub_channel_name, json.dumps({"command": "x"}))
        assert arrived.wait(5)
        assert received == [{"command": "x"}]

        # Leave the listening thread between messages, where RQ's own
        # subscribe lets it block for a minute, then stop as RQ does.
        worker.pubsub.unsubscribe()
        time.sleep(0.5)
    finally:
        started = time.monotonic()
        worker.unsubscribe()
        took = time.monotonic() - started
    assert took < 5, f"stopping took {took:.1f} s"
