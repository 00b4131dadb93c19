"""A mock "company system" for the demo, served by Fluxo itself so the demo works offline.

``GET /api/demo/orders/<id>/`` answers an order's status, like a shop's ERP would. It wants the
demo credential's bearer token, as a real API would want its key.
"""

from __future__ import annotations

import hmac

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import error_response
from integrations.demo import DEMO_CREDENTIAL, DEMO_ORDERS
from integrations.vault.selectors import credential_get_by_name


class DemoOrderSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    status = serializers.CharField()
    eta = serializers.CharField()
    customer = serializers.DictField()


class DemoOrderView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = DemoOrderSerializer

    @extend_schema(responses={200: DemoOrderSerializer})
    def get(self, request, order_id: str):
        credential = credential_get_by_name(DEMO_CREDENTIAL)
        given = request.headers.get("Authorization", "")
        if credential is None or not hmac.compare_digest(given.encode(), f"Bearer {credential.secret}".encode()):
            return error_response("not_authenticated", "send the demo token (credential demo-loja)", http_status=401)
        order = DEMO_ORDERS.get(order_id.strip().lstrip("#"))
        if order is None:
            return error_response("not_found", f"order {order_id} not found", http_status=404)
        return Response({"order_id": order_id, **order})
