"""What RQ's scheduler enqueues on its own: ``rq cron agnozys/cron.py``.

Run one ``rq cron`` process next to the workers (a second one is harmless:
every job here is idempotent)::

    rq cron --url "$REDIS_URL" agnozys/cron.py
    rq worker --with-scheduler --url "$REDIS_URL" agnozys

Cron expressions are read in the server's local time zone (RQ converts
"now" to local time); the ladder itself works out "today" in each
organization's time zone, so the daily run only has to happen after
midnight there. ``rq cron`` only enqueues: the workers run the jobs,
through :func:`agnozys.jobs.execute`, exactly like ``flask dunning run``.
"""

from __future__ import annotations

from rq import cron

from agnozys.jobs import QUEUE_NAME, execute

# The reminder ladder, every day at 09:00 UTC (06:00 in São Paulo).
cron.register(
    execute,
    queue_name=QUEUE_NAME,
    args=("ladder.run", {}),
    cron="0 9 * * *",
    job_timeout=3600,
    name="agnozys-ladder-daily",
)

# Reminders whose job was lost or died mid-send, once their lease is over.
cron.register(
    execute,
    queue_name=QUEUE_NAME,
    args=("ladder.recover", {}),
    interval=600,
    job_timeout=600,
    name="agnozys-ladder-recover",
)

# Subscription periods due today, then automatic suspension where an
# organization turned it on (``flask billing run`` runs the same job).
cron.register(
    execute,
    queue_name=QUEUE_NAME,
    args=("billing.run", {}),
    cron="0 8 * * *",
    job_timeout=3600,
    name="agnozys-billing-daily",
)

# Side effects whose commit happened but whose hand-over to Redis did not
# (Redis briefly down): the outbox rows wait, this hands them over.
cron.register(
    execute,
    queue_name=QUEUE_NAME,
    args=("jobs.dispatch", {}),
    interval=60,
    job_timeout=600,
    name="agnozys-jobs-dispatch",
)
