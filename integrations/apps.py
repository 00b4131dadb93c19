from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flows.engine.runtime import register_service
        from flows.signals import domain_event
        from integrations.webhooks.receivers import on_domain_event

        # Runtime services that the node types of this app call through ``ctx.runtime.call``.
        register_service("route_to_team", "integrations.routing.services:run_route_to_team")
        register_service("set_conversation_state", "integrations.routing.services:run_set_conversation_state")
        register_service("notify", "integrations.routing.notify:run_notify")
        domain_event.connect(on_domain_event, dispatch_uid="integrations.webhooks")
