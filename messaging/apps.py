from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from messaging import (
            channel_cache,  # noqa: F401  (connects the channel cache's invalidation)
            import_tasks,  # noqa: F401  (the contact import's Celery task)
        )
