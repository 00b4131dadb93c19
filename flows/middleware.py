"""The signed-in person's language (saved with the language switch) wins over the browser's
Accept-Language, so pages, the admin and API errors speak what they chose in the app."""

from __future__ import annotations

from django.utils import translation

DJANGO_CODES = {"pt-BR": "pt-br", "en": "en"}


class UserLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: activate the user's saved language.

    Token-authenticated API calls (no session) keep Accept-Language, which LocaleMiddleware read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._saved(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response

    @staticmethod
    def _saved(request) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(request, "session"):
            return None
        saved = request.session.get("fluxo_language")
        if saved is None and not request.session.get("fluxo_language_unset"):
            from flows.models import UserPreference

            saved = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
            if saved:
                request.session["fluxo_language"] = saved
            else:  # remember that there is none, not to ask the database on every request
                request.session["fluxo_language_unset"] = True
        return DJANGO_CODES.get(saved or "")
