"""Reads for routing: teams."""

from __future__ import annotations

from integrations.models import Team


def team_get_by_name(name: str) -> Team | None:
    """A team by exact name, else case-insensitively (flows are written by people)."""
    name = (name or "").strip()
    return Team.objects.filter(name=name).first() or Team.objects.filter(name__iexact=name).first()


def team_recipients(team: Team) -> list[str]:
    """Where e-mail notifications to ``team`` go: its mailbox, else its members with an address."""
    if team.notify_email:
        return [team.notify_email]
    return sorted({u.email for u in team.members.all() if u.email})
