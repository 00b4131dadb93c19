from django.urls import path

from messaging.consumers import SandboxConsumer

websocket_urlpatterns = [path("ws/sandbox/<int:contact_id>/", SandboxConsumer.as_asgi())]
