"""The editor's single-page app: every client route is served the same shell."""

from django.urls import path, re_path

from flows.spa import SPA_PREFIXES, spa_view

urlpatterns = [
    path("", spa_view, name="spa-home"),
    re_path(rf"^(?:{'|'.join(SPA_PREFIXES)})(?:/.*)?$", spa_view, name="spa"),
]
