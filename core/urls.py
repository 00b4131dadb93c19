"""Core routes: people and roles under /api/, and the password-setting pages of invitations."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core.api import users

api_urlpatterns = [
    path("users/", users.UserListView.as_view(), name="users"),
    path("users/<int:pk>/", users.UserDetailView.as_view(), name="user-detail"),
]

urlpatterns = [
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
