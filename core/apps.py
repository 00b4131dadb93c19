from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every other app builds on: the inbox, secrets, logging, roles, the API error shape."""

    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import sqlcount

        sqlcount.install()  # the benchmark's statement counter; off unless FLUXO_SQL_COUNT is set
