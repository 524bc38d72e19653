"""RQ worker classes that build the Agnozys app once, before any job runs.

RQ's default worker forks a "work horse" per job. Without this, every
horse would build the Flask app again (imports, plugins: seconds on a busy
machine) before running a job that takes milliseconds. Use::

    rq worker --with-scheduler -w agnozys.worker.Worker --url "$REDIS_URL" agnozys

or ``-w agnozys.worker.SimpleWorker`` to run jobs in the worker process
itself (no fork: fastest, but a crashing job takes the worker down).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from rq.worker import BaseWorker
from rq.worker import SimpleWorker as RqSimpleWorker
from rq.worker import Worker as RqWorker

log = logging.getLogger(__name__)
_forked_hook_installed = False

#: How long the thread listening for worker commands (``rq`` suspend,
#: kill-horse) may block before it looks whether it should stop. RQ gives
#: it 60 s, and redis-py's ``PubSubWorkerThread.stop()`` waits for it
#: without a limit: a worker told to stop while that thread sat between
#: messages took up to a minute to exit (seen in benchmarks/webhooks.py).
COMMAND_POLL_SECONDS = 1.0


def _forget_parent_connections() -> None:
    # A forked horse must not share the parent's database sockets.
    from . import jobs
    from .extensions import db

    if jobs._worker_app is not None:
        with jobs._worker_app.app_context():
            db.engine.dispose(close=False)


def preload() -> None:
    """Build the app the jobs will run in, once per worker process."""
    global _forked_hook_installed
    from . import create_app, jobs

    if jobs._worker_app is None:
        jobs._worker_app = create_app()
        log.info("Worker %s: app loaded", os.getpid())
    if not _forked_hook_installed:
        os.register_at_fork(after_in_child=_forget_parent_connections)
        _forked_hook_installed = True


def _listen_for_commands(worker: BaseWorker) -> None:
    """Subscribe ``worker`` to its command channel, as RQ does, polling often."""
    worker.log.info(
        "Worker %s: listening on %s", worker.name, worker.pubsub_channel_name
    )
    worker.pubsub = worker.connection.pubsub()
    worker.pubsub.subscribe(**{worker.pubsub_channel_name: worker.handle_payload})
    worker.pubsub_thread = worker.pubsub.run_in_thread(  # type: ignore[assignment]
        sleep_time=COMMAND_POLL_SECONDS,
        daemon=True,
        exception_handler=worker._pubsub_exception_handler,
    )


class Worker(RqWorker):
    """RQ's forking worker, with the app built before the first fork."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preload()

    def subscribe(self) -> None:
        _listen_for_commands(self)


class SimpleWorker(RqSimpleWorker):
    """RQ's in-process worker, with the app built once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preload()

    def subscribe(self) -> None:
        _listen_for_commands(self)
