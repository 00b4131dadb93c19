"""Routes for the people who run Fluxo: /healthz, /readyz and /metrics (see flows/ops.py)."""

from django.urls import path

from flows import ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.ReadyView.as_view(), name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
]
