"""``/api/users/``: people and roles, for admins only."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from core import users as services
from core.permissions import ROLE_ORDER

ADMIN = {method: "admin" for method in ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS")}


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$")
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=ROLE_ORDER)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, default="",
                                     style={"input_type": "password"})
    invite = serializers.BooleanField(write_only=True, required=False, default=False)
    is_active = serializers.BooleanField(read_only=True)
    last_login = serializers.DateTimeField(read_only=True, allow_null=True)
    has_password = serializers.BooleanField(read_only=True)


class UserUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=ROLE_ORDER, required=False)
    is_active = serializers.BooleanField(required=False)


def user_data(user) -> dict:
    return {"id": user.pk, "username": user.username, "first_name": user.first_name, "email": user.email,
            "role": services.user_role(user), "is_active": user.is_active,
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "has_password": user.has_usable_password()}


class UserListView(APIView):
    required_roles = ADMIN
    serializer_class = UserSerializer

    @extend_schema(responses={200: UserSerializer(many=True)})
    def get(self, request):
        users = get_user_model().objects.order_by("username").prefetch_related("groups")
        return Response([user_data(user) for user in users])

    @extend_schema(request=UserSerializer, responses={201: dict})
    def post(self, request):
        body = UserSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        try:
            user, link = services.user_create(base_url=request.build_absolute_uri("/"), **data)
        except services.UserRejected as exc:
            raise ValidationError({exc.field: [exc.message]}) from exc
        return Response({**user_data(user), "invite_link": link}, status=status.HTTP_201_CREATED)


class UserDetailView(APIView):
    required_roles = ADMIN
    serializer_class = UserUpdateSerializer

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        return Response(user_data(get_object_or_404(get_user_model().objects.all(), pk=pk)))

    @extend_schema(request=UserUpdateSerializer, responses={200: dict})
    def patch(self, request, pk: int):
        user = get_object_or_404(get_user_model().objects.all(), pk=pk)
        body = UserUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            user = services.user_update(user=user, actor=request.user, **body.validated_data)
        except services.UserRejected as exc:
            raise ValidationError({exc.field: [exc.message]}) from exc
        return Response(user_data(user))
