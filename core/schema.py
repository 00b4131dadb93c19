"""Raw OpenAPI schemas for drf-spectacular annotations of answers that have no serializer.

An answer declared ``dict`` but sent as a list fails schemathesis' response check (issue 9): a view
that answers a list of free-form objects says so with :data:`LIST_OF_OBJECTS`.
"""

from __future__ import annotations

OBJECT = {"type": "object", "additionalProperties": True}
LIST_OF_OBJECTS = {"type": "array", "items": OBJECT}
