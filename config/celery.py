"""The Celery application. Tasks live in each app's ``tasks.py`` and are autodiscovered."""

import os

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fluxo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _logging_from_django_settings(loglevel=None, **kwargs) -> None:
    """Workers and beat log through ``settings.LOGGING`` (not Celery's own handlers): the
    secret-masking formatter masks their lines and tracebacks too, and the console handler's
    ``QuietTicksFilter`` keeps periodic ticks at DEBUG. ``--loglevel`` still sets the root level."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@worker_init.connect
@worker_process_init.connect
def _gc_tuned(**kwargs) -> None:
    """After start-up (in the main process and in each forked child): see ``config.gctune``."""
    from config.gctune import gc_tune

    gc_tune()
