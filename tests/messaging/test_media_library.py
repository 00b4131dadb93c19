"""The media library API: upload with WhatsApp's checks, list, preview/download, rename, delete, used in."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.factories import definition, edge, make_flow, make_user, node

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"2" * 300 + b"\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"3" * 300


def upload(api, filename="fatura.pdf", content=PDF, mime="application/pdf", **extra):
    return api.post("/api/media/", {"file": SimpleUploadedFile(filename, content, content_type=mime), **extra},
                    format="multipart")


def test_upload_list_preview_download_rename(api, client, editor):
    response = upload(api, filename="Fatura Maio.pdf")
    assert response.status_code == 201, response.content
    media = response.json()
    assert media["kind"] == "document" and media["name"] == "Fatura Maio.pdf" and media["size"] == len(PDF)
    assert upload(api, "logo.png", PNG, "image/png", name="Logo").json()["kind"] == "image"
    listed = api.get("/api/media/").json()
    assert [m["name"] for m in listed] == ["Logo", "Fatura Maio.pdf"]
    assert [m["name"] for m in api.get("/api/media/", {"kind": "image"}).json()] == ["Logo"]
    assert [m["name"] for m in api.get("/api/media/", {"q": "fatura"}).json()] == ["Fatura Maio.pdf"]
    client.force_login(editor)
    preview = client.get(media["preview_url"])
    assert preview.status_code == 200 and b"".join(preview.streaming_content) == PDF
    assert preview["Content-Disposition"].startswith("inline")
    assert client.get(media["download_url"])["Content-Disposition"].startswith("attachment")
    assert APIClient().get(media["url"]).status_code == 200  # the signed link needs no session
    renamed = api.patch(f"/api/media/{media['id']}/", {"name": "Boleto"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Boleto"
    assert api.patch(f"/api/media/{media['id']}/", {"name": ""}, format="json").status_code == 400


@pytest.mark.parametrize("name,content,mime,code", [
    ("anim.gif", b"GIF89a" + b"0" * 10, "image/gif", "media_type"),
    ("big.jpg", b"\xff\xd8" + b"0" * (5 * 1024 * 1024), "image/jpeg", "media_too_large"),
    ("setup.exe", b"MZ" + b"0" * 10, "application/x-msdownload", "media_type"),
])
def test_upload_refuses_what_whatsapp_refuses_with_a_clear_400(api, name, content, mime, code):
    response = upload(api, name, content, mime)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["details"]["file"]


def test_upload_without_a_file_is_a_400_in_the_error_shape(api):
    response = api.post("/api/media/", {"name": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


def test_used_in_and_delete(api):
    media = upload(api).json()
    flow = make_flow(definition([node("t", "trigger", event="message", match="any"),
                                 node("pdf", "send_media", media_type="document", source="library", media=media["id"])],
                                [edge("t", "pdf")]), name="Fatura em PDF")
    detail = api.get(f"/api/media/{media['id']}/").json()
    assert detail["used_in"] == [{"flow": flow.pk, "name": "Fatura em PDF", "nodes": ["pdf"], "published": True}]
    refused = api.delete(f"/api/media/{media['id']}/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "media_in_use"
    assert api.delete(f"/api/media/{media['id']}/?force=1").status_code == 204
    assert api.get(f"/api/media/{media['id']}/").status_code == 404


def test_roles_viewer_reads_editor_writes(api):
    media = upload(api).json()
    viewer = APIClient()
    viewer.force_authenticate(make_user("vera", role="viewer"))
    assert viewer.get("/api/media/").status_code == 200
    assert upload(viewer).status_code == 403
    assert viewer.patch(f"/api/media/{media['id']}/", {"name": "x"}, format="json").status_code == 403
    assert viewer.delete(f"/api/media/{media['id']}/").status_code == 403
    assert APIClient().get("/api/media/").status_code == 401


def test_the_library_is_in_the_openapi_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    assert {"/api/media/", "/api/media/{id}/"} <= set(schema["paths"])
    assert "multipart/form-data" in schema["paths"]["/api/media/"]["post"]["requestBody"]["content"]
