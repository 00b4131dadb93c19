from django.urls import path

from flows.consumers import TestRunConsumer

websocket_urlpatterns = [path("ws/test-runs/<int:test_id>/", TestRunConsumer.as_asgi())]
