from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = _("Flows")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import inbox
        from flows import monitoring_tasks, nodes  # noqa: F401  (registers the node types and monitoring tasks)
        from flows.processing import contact_event_take, contacts_state_read_ahead
        from flows.tasks import contact_events_queue

        # Events recorded by any app (messaging, integrations, timers) are processed by flows: queued
        # for the contact's task, or at once by whoever already holds the contact's lock.
        inbox.register_dispatcher(contact_events_queue)
        inbox.register_processor(contact_event_take)
        inbox.register_preparer(contacts_state_read_ahead)
        from flows.monitoring_admin import register as monitoring_admin_register
        from flows.selectors import flows_using_media
        from messaging.media import media_usage_register

        media_usage_register(flows_using_media)  # the media library's "used in"

        monitoring_admin_register()
