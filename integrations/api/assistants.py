"""Knowledge entries of an assistant: edit, delete, and import many from a CSV (question, answer,
keywords). Editors write, as for assistants."""

from __future__ import annotations

import csv
import io

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.ai.services import knowledge_entry_create
from integrations.api.serializers import KnowledgeEntrySerializer
from integrations.models import Assistant, KnowledgeEntry

MAX_ROWS = 2000


class KnowledgeEntryViewSet(mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin,
                            viewsets.GenericViewSet):
    """``/api/knowledge-entries/{id}/``: one entry (create them with ``POST /api/assistants/{id}/knowledge/``)."""

    queryset = KnowledgeEntry.objects.all()
    serializer_class = KnowledgeEntrySerializer


class KnowledgeImportSerializer(serializers.Serializer):
    content = serializers.CharField(trim_whitespace=False, help_text="CSV with columns question;answer;keywords")


def _rows(content: str) -> list[dict[str, str]]:
    text = content.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    aliases = {"pergunta": "question", "question": "question", "resposta": "answer", "answer": "answer",
               "palavras_chave": "keywords", "palavras-chave": "keywords", "keywords": "keywords"}
    fields = {name: aliases.get((name or "").strip().lower()) for name in reader.fieldnames or []}
    if "question" not in fields.values() or "answer" not in fields.values():
        raise ValidationError({"content": ["the first line must name the columns pergunta;resposta "
                                           "(question;answer) and, optionally, palavras_chave (keywords)"]})
    rows = []
    for line, raw in enumerate(reader, start=2):
        row = {target: (raw.get(name) or "").strip() for name, target in fields.items() if target}
        if not row.get("question") and not row.get("answer"):
            continue
        if not row.get("question") or not row.get("answer"):
            raise ValidationError({"content": [f"line {line}: both the question and the answer are needed"]})
        rows.append(row)
    if len(rows) > MAX_ROWS:
        raise ValidationError({"content": [f"at most {MAX_ROWS} entries per file"]})
    return rows


class KnowledgeImportView(APIView):
    """``POST /api/assistants/{id}/knowledge/import/``: add every row of the CSV, or none if one is bad."""

    serializer_class = KnowledgeImportSerializer

    @extend_schema(request=KnowledgeImportSerializer, responses={201: dict})
    def post(self, request, pk: int):
        assistant = get_object_or_404(Assistant.objects.all(), pk=pk)
        body = KnowledgeImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = _rows(body.validated_data["content"])
        try:
            with transaction.atomic():
                created = [knowledge_entry_create(assistant=assistant, question=row["question"][:300],
                                                  answer=row["answer"], keywords=row.get("keywords", "")[:300])
                           for row in rows]
        except Exception as exc:  # full_clean's ValidationError: the whole file is refused
            raise ValidationError({"content": [str(exc)]}) from exc
        return Response({"created": len(created)}, status=status.HTTP_201_CREATED)
