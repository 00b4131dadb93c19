"""Roles: viewer (read), editor (write flows and run tests), admin (channels, secrets, users).

Roles are Django groups named ``viewer``, ``editor`` and ``admin``; superusers hold every role.
A view states the role it needs per action with ``required_roles`` (a dict from HTTP method or
action name to role); by default reads need ``viewer`` and writes need ``editor``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission

ROLE_ORDER = ["viewer", "editor", "admin"]


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLE_ORDER)
    names = set(user.groups.values_list("name", flat=True))
    granted: set[str] = set()
    # A higher role includes the lower ones.
    for index, role in enumerate(ROLE_ORDER):
        if any(r in names for r in ROLE_ORDER[index:]):
            granted.add(role)
    return granted


def has_role(user, role: str) -> bool:
    return role in user_roles(user)


class RolePermission(BasePermission):
    message = gettext_lazy("Your role does not allow this action.")

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        required = getattr(view, "required_roles", None) or {}
        action = getattr(view, "action", None)
        role = required.get(action) or required.get(request.method)
        if role is None:
            role = "viewer" if request.method in SAFE_METHODS else "editor"
        return has_role(request.user, role)


class AllowAnyAuthenticatedOrPublic(BasePermission):
    """For endpoints with their own authentication (webhooks, API keys)."""

    def has_permission(self, request, view) -> bool:
        return True
