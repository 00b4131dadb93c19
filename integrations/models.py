"""Teams (routing targets), and the integrations' own records."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    priority = models.SmallIntegerField(default=0)
    timezone = models.CharField(max_length=64, default="America/Sao_Paulo")
    business_hours = models.JSONField(
        default=dict, blank=True,
        help_text='Weekday → list of [start, end], e.g. {"mon": [["09:00", "18:00"]]}',
    )
    holidays = models.JSONField(default=list, blank=True, help_text='ISO dates, e.g. ["2026-12-25"]')

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
