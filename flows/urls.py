"""The editor's single-page app: every client route is served the same shell."""

from django.urls import path, re_path


def _spa(request, *args, **kwargs):
    # Imported lazily: the SPA view lives with the frontend build (flows/spa.py).
    from flows.spa import spa_view

    return spa_view(request, *args, **kwargs)


urlpatterns = [
    path("", _spa, name="spa-home"),
    re_path(r"^(?:login|flows)(?:/.*)?$", _spa, name="spa"),
]
