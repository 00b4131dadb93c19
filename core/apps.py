from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every other app builds on: the inbox, secrets, logging, roles, the API error shape."""

    name = "core"
    verbose_name = _("Core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import sqlcount

        sqlcount.install()  # the benchmark's statement counter; off unless FLUXO_SQL_COUNT is set
