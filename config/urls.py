from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.urls import api_urlpatterns as core_api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("flows.api.urls")),
    path("api/", include("messaging.api.urls")),
    path("api/", include("integrations.urls")),
    path("api/", include(core_api)),
    path("", include("core.urls")),
    path("", include("messaging.urls")),
    path("", include("flows.urls")),
    path("", include("flows.ops_urls")),  # /healthz, /readyz, /metrics
]
