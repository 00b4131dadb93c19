"""People and their roles: admins create users with a password or invite them by e-mail (the link
sets the password with Django's own reset view). Roles are the groups viewer, editor and admin."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core.permissions import ROLE_ORDER, user_roles

User = get_user_model()


class UserRejected(ValueError):
    def __init__(self, message: str, *, field: str = "non_field_errors"):
        super().__init__(message)
        self.message, self.field = message, field


def user_role(user) -> str:
    roles = user_roles(user)
    return next((role for role in reversed(ROLE_ORDER) if role in roles), "")


def _role_set(user, role: str) -> None:
    if role not in ROLE_ORDER:
        raise UserRejected(_("Choose a role: viewer, editor or admin."), field="role")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_ORDER}
    user.groups.remove(*[group for name, group in groups.items() if name != role])
    user.groups.add(groups[role])


def invite_link(user, *, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url.rstrip("/") + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def user_create(*, username: str, role: str, first_name: str = "", email: str = "", password: str = "",
                invite: bool = False, base_url: str = "") -> tuple[object, str]:
    """Create a user with a role. With ``invite`` (and no password) the person gets an e-mail with a
    link to choose a password; the link is also returned for the admin to pass on."""
    if User.objects.filter(username__iexact=username).exists():
        raise UserRejected(_("This username is taken."), field="username")
    if invite and not email:
        raise UserRejected(_("An invitation needs an e-mail address."), field="email")
    if not invite and not password:
        raise UserRejected(_("Give a password, or invite the person by e-mail."), field="password")
    user = User(username=username, first_name=first_name, email=email)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise UserRejected(" ".join(exc.messages), field="password") from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    _role_set(user, role)
    link = ""
    if invite:
        link = invite_link(user, base_url=base_url)
        body = _("You were invited to Fluxo. Choose your password here: %(link)s") % {"link": link}
        transaction.on_commit(lambda: send_mail(_("Your Fluxo invitation"), body, settings.DEFAULT_FROM_EMAIL,
                                                [email], fail_silently=True))
    return user, link


@transaction.atomic
def user_update(*, user, actor, role: str | None = None, is_active: bool | None = None,
                first_name: str | None = None, email: str | None = None):
    """Change a user's role, name, e-mail or access. Nobody removes their own admin role or access
    (the last way back in would be the command line)."""
    if user.pk == actor.pk and ((role is not None and role != "admin") or is_active is False):
        raise UserRejected(_("You cannot remove your own admin role or access."), field="role")
    if role is not None:
        _role_set(user, role)
    for name, value in (("is_active", is_active), ("first_name", first_name), ("email", email)):
        if value is not None:
            setattr(user, name, value)
    user.save()
    return user
