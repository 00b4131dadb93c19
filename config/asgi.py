"""ASGI entry point: HTTP through Django, websockets (test-run traces, sandbox chat) through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from messaging import asgi as webhook_asgi  # noqa: E402


async def http_app(scope, receive, send):
    """Meta's webhook POSTs skip the middleware (messaging/asgi.py); everything else is Django."""
    if webhook_asgi.handles(scope):
        await webhook_asgi.whatsapp_webhook(scope, receive, send)
    else:
        await django_asgi_app(scope, receive, send)


from config.gctune import gc_tune  # noqa: E402

gc_tune()  # after the apps and URLs are loaded: they leave every later collection

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
