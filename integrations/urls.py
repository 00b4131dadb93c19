"""Integrations API, mounted at ``/api/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations import demo_views
from integrations.api import views

router = SimpleRouter(trailing_slash=True)
router.register("credentials", views.CredentialViewSet, basename="credential")
router.register("webhooks/subscriptions", views.WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhooks/deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("api-integrations", views.ApiIntegrationViewSet, basename="api-integration")
router.register("assistants", views.AssistantViewSet, basename="assistant")
router.register("teams", views.TeamViewSet, basename="team")

urlpatterns = [
    path("events/", views.EventView.as_view(), name="events"),
    path("events/<int:event_id>/", views.EventDetailView.as_view(), name="event-detail"),
    path("demo/orders/<str:order_id>/", demo_views.DemoOrderView.as_view(), name="demo-order"),
    *router.urls,
]
