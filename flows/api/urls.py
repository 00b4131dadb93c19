from django.urls import path
from rest_framework.routers import SimpleRouter

from flows.api import dashboard, runs, testcontacts, views

router = SimpleRouter(trailing_slash=True)
router.register("flows", views.FlowViewSet, basename="flow")
router.register(r"flows/(?P<flow_pk>\d+)/revisions", views.RevisionViewSet, basename="flow-revision")
router.register("runs", runs.RunViewSet, basename="run")
router.register("test-runs", views.TestRunViewSet, basename="test-run")
router.register("test-contacts", testcontacts.TestContactViewSet, basename="test-contact")

urlpatterns = [
    path("auth/session/", views.SessionView.as_view(), name="auth-session"),
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("node-types/", views.NodeTypeList.as_view(), name="node-types"),
    path("dashboard/", dashboard.DashboardView.as_view(), name="dashboard"),
    path("flows/<int:flow_id>/path-counts/", dashboard.PathCountsView.as_view(), name="flow-path-counts"),
    path("flows/<int:flow_id>/alert-settings/", dashboard.FlowAlertSettingsView.as_view(), name="flow-alert-settings"),
    path("alerts/", dashboard.AlertListView.as_view(), name="alerts"),
    path("alerts/read/", dashboard.AlertReadView.as_view(), name="alerts-read"),
    path("alert-settings/", dashboard.AlertSettingsView.as_view(), name="alert-settings"),
    *router.urls,
]
