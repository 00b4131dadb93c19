from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.signals import domain_event
        from flows.engine.runtime import register_service
        from flows.nodes.registry import register_name_check
        from integrations.webhooks.receivers import on_domain_event

        # Runtime services that the node types of this app call through ``ctx.runtime.call``.
        register_service("route_to_team", "integrations.routing.services:run_route_to_team")
        register_service("set_conversation_state", "integrations.routing.services:run_set_conversation_state")
        register_service("notify", "integrations.routing.notify:run_notify")
        register_name_check("credential", _credential_exists)
        register_name_check("subscription", _subscription_exists)
        register_name_check("team", _team_exists)
        domain_event.connect(on_domain_event, dispatch_uid="integrations.webhooks")
        from django.db.models.signals import post_delete, post_save

        from integrations.models import WebhookSubscription
        from integrations.webhooks.services import subscriptions_forget

        post_save.connect(subscriptions_forget, sender=WebhookSubscription, dispatch_uid="subscriptions-forget-save")
        post_delete.connect(subscriptions_forget, sender=WebhookSubscription, dispatch_uid="subscriptions-forget-del")
        from flows.alerts import register_alert_notifier, register_alert_source
        from integrations.routing.alerts import alert_notify, disabled_webhooks

        register_alert_source(disabled_webhooks)
        register_alert_notifier(alert_notify)
        # The vault's values are secrets everywhere downstream (core.secrets): masked in stored
        # variables, API answers, admin pages and logs, refused in outgoing messages.
        from core.secrets import register_secret_provider
        from integrations.models import Credential
        from integrations.vault.services import credential_secret_values, credentials_forget

        register_secret_provider(credential_secret_values)
        post_save.connect(credentials_forget, sender=Credential, dispatch_uid="credentials-forget-save")
        post_delete.connect(credentials_forget, sender=Credential, dispatch_uid="credentials-forget-del")


def _credential_exists(name: str) -> bool:
    from integrations.vault.selectors import credential_get_by_name

    return credential_get_by_name(name) is not None


def _subscription_exists(name: str) -> bool:
    from integrations.models import WebhookSubscription

    return WebhookSubscription.objects.filter(name=name).exists()


def _team_exists(name: str) -> bool:
    from integrations.routing.selectors import team_get_by_name

    return team_get_by_name(name) is not None
