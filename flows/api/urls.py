from django.urls import path
from rest_framework.routers import SimpleRouter

from flows.api import views

router = SimpleRouter(trailing_slash=True)
router.register("flows", views.FlowViewSet, basename="flow")
router.register(r"flows/(?P<flow_pk>\d+)/revisions", views.RevisionViewSet, basename="flow-revision")
router.register("runs", views.RunViewSet, basename="run")
router.register("test-runs", views.TestRunViewSet, basename="test-run")

urlpatterns = [
    path("auth/session/", views.SessionView.as_view(), name="auth-session"),
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("node-types/", views.NodeTypeList.as_view(), name="node-types"),
    *router.urls,
]
