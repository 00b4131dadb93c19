"""Websocket routes of every app, gathered in one place."""

from flows.routing import websocket_urlpatterns as flows_ws
from messaging.routing import websocket_urlpatterns as messaging_ws

websocket_urlpatterns = [*flows_ws, *messaging_ws]
