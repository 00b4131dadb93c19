from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import inbox
        from flows import nodes  # noqa: F401  (registers the node types)
        from flows.processing import contact_event_take
        from flows.tasks import contact_events_queue

        # Events recorded by any app (messaging, integrations, timers) are processed by flows: queued
        # for the contact's task, or at once by whoever already holds the contact's lock.
        inbox.register_dispatcher(contact_events_queue)
        inbox.register_processor(contact_event_take)
