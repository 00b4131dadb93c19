"""Segments: a saved filter (JSON) compiled to a Django ``Q`` by one function with a whitelist.

A definition is ``{"match": "all" | "any", "conditions": [condition, ...]}``; each condition names
a ``field`` and an ``op`` from :data:`OPERATORS`. Nothing from the input reaches SQL except as a
bound value: attribute keys must match ``ATTRIBUTE_KEY`` and become ORM lookups, operators are
looked up in a fixed table. Conditions:

* ``{"field": "tag", "op": "has" | "not_has", "value": "vip"}``
* ``{"field": "attribute", "key": "city", "op": "eq" | "neq" | "contains" | "exists" | "not_exists" |
  "gt" | "gte" | "lt" | "lte", "value": ...}`` (numbers compare as numbers, text and ISO dates as text)
* ``{"field": "consent", "category": "marketing", "op": "is" | "is_not", "value": "opted_in"}``
* ``{"field": "last_inbound", "op": "before" | "after", "value": "2026-01-31T00:00:00Z"}``,
  ``"op": "within_days" | "not_within_days", "value": 7`` or ``"op": "never"``
* ``{"field": "team", "op": "in", "value": [team ids]}`` (a conversation assigned to one of them)
* ``{"field": "import", "op": "in", "value": [contact import ids]}``
* ``{"field": "channel", "op": "eq", "value": channel id}``
* ``{"field": "segment", "op": "in" | "not_in", "value": segment id}`` (another segment, one level deep)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from messaging.models import Contact, Conversation

MAX_CONDITIONS = 50
OPERATORS: dict[str, tuple[str, ...]] = {
    "tag": ("has", "not_has"),
    "attribute": ("eq", "neq", "contains", "exists", "not_exists", "gt", "gte", "lt", "lte"),
    "consent": ("is", "is_not"),
    "last_inbound": ("before", "after", "within_days", "not_within_days", "never"),
    "team": ("in",),
    "import": ("in",),
    "channel": ("eq",),
    "segment": ("in", "not_in"),
}


class SegmentInvalid(ValueError):
    """The definition cannot be compiled; ``field`` says where (``conditions.2.value``)."""

    def __init__(self, message: str, *, field: str = "definition"):
        super().__init__(message)
        self.message, self.field = message, field


def _ids(value: Any, where: str) -> list[int]:
    items = value if isinstance(value, list) else [value]
    try:
        ids = [int(item) for item in items]
    except (TypeError, ValueError):
        raise SegmentInvalid(_("give a list of ids"), field=where) from None
    if not ids or len(ids) > 500:
        raise SegmentInvalid(_("give between 1 and 500 ids"), field=where)
    return ids


def _when(value: Any, where: str) -> datetime:
    moment = parse_datetime(str(value or "")) if not isinstance(value, datetime) else value
    if moment is None:
        raise SegmentInvalid(_("give a date and time (ISO 8601)"), field=where)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _condition(condition: Any, where: str, *, now: datetime, depth: int) -> Q:
    from messaging.contacts import ATTRIBUTE_KEY

    if not isinstance(condition, dict):
        raise SegmentInvalid(_("each condition is an object"), field=where)
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    if field not in OPERATORS:
        raise SegmentInvalid(_("unknown field %(field)s") % {"field": field}, field=f"{where}.field")
    if op not in OPERATORS[field]:
        raise SegmentInvalid(_("operators of %(field)s: %(ops)s") % {"field": field, "ops": ", ".join(OPERATORS[field])},
                             field=f"{where}.op")
    if field == "tag":
        if not isinstance(value, str) or not value.strip():
            raise SegmentInvalid(_("give a tag name"), field=f"{where}.value")
        through = Contact.tags.through
        has = Exists(through.objects.filter(contact_id=OuterRef("pk"), tag__name=value.strip()))
        return Q(has) if op == "has" else ~Q(has)
    if field == "attribute":
        key = str(condition.get("key") or "")
        if not ATTRIBUTE_KEY.match(key):
            raise SegmentInvalid(_("attribute names use letters, digits and _"), field=f"{where}.key")
        if op == "exists":
            return Q(attributes__has_key=key)
        if op == "not_exists":
            return ~Q(attributes__has_key=key)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise SegmentInvalid(_("give a text or a number"), field=f"{where}.value")
        if op == "eq":
            return Q(**{f"attributes__{key}": value})
        if op == "neq":
            return ~Q(**{f"attributes__{key}": value}) | ~Q(attributes__has_key=key)
        if op == "contains":
            return Q(**{f"attributes__{key}__icontains": str(value)})
        if isinstance(value, int | float):  # JSON numbers compare as numbers
            return Q(**{f"attributes__{key}__{op}": value})
        # Text (and ISO dates, which sort as text): compare the attribute's text.
        return Q(**{f"_attr_text_{key}__{op}": value})
    if field == "consent":
        category = condition.get("category")
        if category not in Contact.CONSENT_CATEGORIES:
            raise SegmentInvalid(_("categories are %(list)s") % {"list": ", ".join(Contact.CONSENT_CATEGORIES)},
                                 field=f"{where}.category")
        if value not in Contact.Consent.values:
            raise SegmentInvalid(_("states are %(list)s") % {"list": ", ".join(Contact.Consent.values)},
                                 field=f"{where}.value")
        if value == Contact.Consent.UNKNOWN:
            q = ~Q(**{f"consent__{category}__state__in": [Contact.Consent.OPTED_IN, Contact.Consent.OPTED_OUT]}) | Q(
                **{f"consent__{category}__isnull": True})
        else:
            q = Q(**{f"consent__{category}__state": value})
        return q if op == "is" else ~q
    if field == "last_inbound":
        if op == "never":
            return Q(last_inbound_at__isnull=True)
        if op in ("within_days", "not_within_days"):
            try:
                days = float(value)
            except (TypeError, ValueError):
                raise SegmentInvalid(_("give a number of days"), field=f"{where}.value") from None
            if not 0 < days <= 3650:
                raise SegmentInvalid(_("give a number of days"), field=f"{where}.value")
            recent = Q(last_inbound_at__gte=now - timedelta(days=days))
            return recent if op == "within_days" else ~recent | Q(last_inbound_at__isnull=True)
        moment = _when(value, f"{where}.value")
        return Q(last_inbound_at__lt=moment) if op == "before" else Q(last_inbound_at__gt=moment)
    if field == "team":
        ids = _ids(value, f"{where}.value")
        return Q(Exists(Conversation.objects.filter(contact_id=OuterRef("pk"), assigned_team_id__in=ids)))
    if field == "import":
        from messaging.models import ImportedContact

        ids = _ids(value, f"{where}.value")
        return Q(Exists(ImportedContact.objects.filter(contact_id=OuterRef("pk"), contact_import_id__in=ids)))
    if field == "channel":
        return Q(channel_id=_ids(value, f"{where}.value")[0])
    # segment
    from messaging.models import Segment

    if depth > 0:
        raise SegmentInvalid(_("a segment inside a segment cannot refer to a third one"), field=where)
    other = Segment.objects.filter(pk=_ids(value, f"{where}.value")[0]).first()
    if other is None:
        raise SegmentInvalid(_("no such segment"), field=f"{where}.value")
    inner = segment_q(other.definition, now=now, depth=depth + 1)
    return inner if op == "in" else ~inner


def _text_keys(definition: dict[str, Any]) -> set[str]:
    keys = set()
    for condition in definition.get("conditions") or []:
        if (isinstance(condition, dict) and condition.get("field") == "attribute"
                and condition.get("op") in ("gt", "gte", "lt", "lte") and isinstance(condition.get("value"), str)):
            keys.add(str(condition.get("key")))
    return keys


def segment_q(definition: Any, *, now: datetime | None = None, depth: int = 0) -> Q:
    """Compile a definition to a ``Q`` over :class:`Contact` (raises :class:`SegmentInvalid`).

    Comparisons of an attribute's text need the annotation :func:`segment_contacts` adds.
    """
    now = now or timezone.now()
    if not isinstance(definition, dict):
        raise SegmentInvalid(_("the definition is an object with match and conditions"))
    match = definition.get("match", "all")
    if match not in ("all", "any"):
        raise SegmentInvalid(_("match is all or any"), field="match")
    conditions = definition.get("conditions") or []
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        raise SegmentInvalid(_("give at most %(n)s conditions") % {"n": MAX_CONDITIONS}, field="conditions")
    compiled = [_condition(c, f"conditions.{i}", now=now, depth=depth) for i, c in enumerate(conditions)]
    q = Q()
    for item in compiled:
        q = (q & item) if match == "all" else (q | item)
    return q


def segment_contacts(definition: Any, *, now: datetime | None = None, base: QuerySet | None = None) -> QuerySet:
    """The contacts a definition selects (test contacts never), as a queryset."""
    q = segment_q(definition, now=now)
    queryset = base if base is not None else Contact.objects.filter(is_test=False)
    keys = _text_keys(definition) if isinstance(definition, dict) else set()
    for inner in _nested_definitions(definition):
        keys |= _text_keys(inner)
    if keys:
        queryset = queryset.annotate(**{f"_attr_text_{key}": KeyTextTransform(key, "attributes") for key in keys})
    return queryset.filter(q)


def _nested_definitions(definition: Any) -> list[dict[str, Any]]:
    from messaging.models import Segment

    if not isinstance(definition, dict):
        return []
    ids = [c.get("value") for c in definition.get("conditions") or []
           if isinstance(c, dict) and c.get("field") == "segment"]
    ids = [int(i) for i in ids if str(i).isdigit()]
    return [s.definition for s in Segment.objects.filter(pk__in=ids) if isinstance(s.definition, dict)]
