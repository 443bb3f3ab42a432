"""One-off background jobs, run by django-q2 workers.

Jobs are enqueued once the creating transaction commits, take only an id, and are
idempotent: each step claims the row first, so a job delivered twice does nothing
the second time. The tracker runs the same steps for rows no worker picked up.
"""

from django.db import transaction
from django_q.tasks import async_task


def _enqueue(path, pk):
    # robust: a broker that is briefly away (the database locked, Redis restarting) must not
    # fail the request that saved the row; the tracker takes up a row no job came for.
    transaction.on_commit(lambda: async_task(path, pk, group="generations"), robust=True)


def enqueue_submit(pk):
    _enqueue("playground.generations.lifecycle.submit", pk)


def enqueue_ingest(pk):
    _enqueue("playground.generations.ingest.ingest", pk)


def enqueue_poll(pk):
    _enqueue("playground.generations.lifecycle.poll", pk)
