"""API-key authentication for outside systems: ``Authorization: Bearer flx_…`` or ``X-Api-Key: flx_…``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission

from integrations.models import ApiIntegration


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        from integrations.events.services import api_integration_authenticate

        header = request.META.get("HTTP_AUTHORIZATION", "")
        key = header[len(self.keyword) + 1:].strip() if header.startswith(self.keyword + " ") else ""
        key = key or request.META.get("HTTP_X_API_KEY", "").strip()
        if not key:
            return None
        integration = api_integration_authenticate(key)
        if integration is None:
            raise exceptions.AuthenticationFailed("invalid or disabled API key")
        # No user acts here: the integration is the principal, carried in ``request.auth``.
        return (AnonymousUser(), integration)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="fluxo-events"'


class IsIntegration(BasePermission):
    message = "Send the integration's API key (Authorization: Bearer flx_…)."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiIntegration)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the integration API key in the OpenAPI schema."""

    target_class = "integrations.events.authentication.ApiKeyAuthentication"
    name = "integrationApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An integration's API key (flx_…), also accepted as the X-Api-Key header."}
