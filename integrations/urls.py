"""Integrations API, mounted at ``/api/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations import demo_views
from integrations.api import assistants, keys, teams, views

router = SimpleRouter(trailing_slash=True)
router.register("credentials", views.CredentialViewSet, basename="credential")
router.register("webhooks/subscriptions", views.WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhooks/deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("api-integrations", views.ApiIntegrationViewSet, basename="api-integration")
router.register("assistants", views.AssistantViewSet, basename="assistant")
router.register("teams", views.TeamViewSet, basename="team")
router.register("knowledge-entries", assistants.KnowledgeEntryViewSet, basename="knowledge-entry")

urlpatterns = [
    path("events/", views.EventView.as_view(), name="events"),
    path("events/<int:event_id>/", views.EventDetailView.as_view(), name="event-detail"),
    path("demo/orders/<str:order_id>/", demo_views.DemoOrderView.as_view(), name="demo-order"),
    path("holidays/", teams.HolidayListView.as_view(), name="holidays"),
    path("teams/people/", teams.TeamMemberCandidatesView.as_view(), name="team-people"),
    path("api-integrations/<int:pk>/calls/", keys.ApiIntegrationCallsView.as_view(), name="api-integration-calls"),
    path("api-integrations/<int:pk>/revoke/", keys.ApiIntegrationRevokeView.as_view(), name="api-integration-revoke"),
    path("assistants/<int:pk>/knowledge/import/", assistants.KnowledgeImportView.as_view(), name="knowledge-import"),
    *router.urls,
]
