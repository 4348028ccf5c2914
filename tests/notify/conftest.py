"""What the notification tests share: people with addresses, and the worker that sends."""

import pytest


@pytest.fixture
def alice(owner):
    owner.email = "alice@example.com"
    owner.save(update_fields=["email"])
    return owner


def send_queued():
    """Run what the commits queued for notifications, as a worker would (a burst, in this process)."""
    import django_rq
    from django.conf import settings
    from rq import SimpleWorker

    django_rq.get_worker(settings.NOTIFY_QUEUE, worker_class=SimpleWorker).work(burst=True)
