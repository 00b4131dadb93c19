from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every other app builds on: the inbox, secrets, logging, roles, the API error shape."""

    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"
