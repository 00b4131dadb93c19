"""The Celery application. Tasks live in each app's ``tasks.py`` and are autodiscovered."""

import logging
import os

from celery import Celery, signals

from config.logfilters import QuietTicksFilter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fluxo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
def _quiet_periodic_ticks(logger: logging.Logger, **_kwargs) -> None:
    """Workers and beat: periodic ticks are DEBUG records, so an idle console stays quiet."""
    for handler in logger.handlers:
        if not any(isinstance(f, QuietTicksFilter) for f in handler.filters):
            handler.addFilter(QuietTicksFilter())
