"""Teams' calendar help: Brazil's (or another country's) public holidays from the ``holidays``
library, national and per state, for the team form; and the people a team may have as members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.filters import int_param, text_param
from core.schema import LIST_OF_OBJECTS
from integrations.holidays import COUNTRIES, UnknownCalendar, public_holidays, subdivisions

LANGUAGES = {"pt-BR": "pt_BR", "en": "en_US"}


class HolidayListView(APIView):
    """``GET /api/holidays/?country=BR&subdivision=SP&year=2026``: the public holidays of a year."""

    @extend_schema(parameters=[OpenApiParameter("country", str), OpenApiParameter("subdivision", str),
                               OpenApiParameter("year", int)], responses={200: dict})
    def get(self, request):
        params = request.query_params
        country = text_param(params, "country", default="BR", max_length=8).upper()
        year = int_param(params, "year", default=timezone.localdate().year, min_value=1900, max_value=2200)
        language = LANGUAGES.get(request.headers.get("X-Fluxo-Language", ""), "")
        if not language:
            language = "en_US" if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en") else "pt_BR"
        try:
            days = public_holidays(country=country, subdivision=text_param(params, "subdivision", default="", max_length=16), year=year,
                                   language=language)
            states = subdivisions(country)
        except UnknownCalendar as exc:
            raise ValidationError({"country": [str(exc)]}) from exc
        return Response({"country": country, "year": year, "holidays": days, "subdivisions": states,
                         "countries": list(COUNTRIES)})


class TeamMemberCandidatesView(APIView):
    """``GET /api/teams/people/``: active users, to pick a team's members."""

    @extend_schema(responses={200: LIST_OF_OBJECTS})
    def get(self, request):
        people = get_user_model().objects.filter(is_active=True).order_by("first_name", "username")
        return Response([{"id": p.pk, "username": p.username, "name": p.get_full_name() or p.username}
                         for p in people])
