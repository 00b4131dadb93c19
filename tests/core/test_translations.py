"""pt-BR everywhere a user looks, on the Django side: the catalogue is complete (makemessages
finds no string without its pt_BR translation), and the admin, the sandbox page and API errors
speak the person's language (their saved choice, else Accept-Language)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from rest_framework.test import APIClient

from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"


def test_makemessages_finds_no_string_without_its_pt_br_translation(tmp_path):
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext is missing (make gettext installs it)", pytrace=False)
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "locale", locale)
    env = {**os.environ, "FLUXO_LOCALE_DIR": str(locale), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    env["FLUXO_VAR_DIR"] = str(tmp_path / "var")
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "--no-location", "--no-obsolete",
                    "--ignore=.venv", "--ignore=frontend", "--ignore=var", "--ignore=static", "--ignore=tests",
                    "--ignore=bench"], cwd=ROOT, env=env, check=True, capture_output=True)
    fresh = polib.pofile(str(locale / "pt_BR" / "LC_MESSAGES" / "django.po"))
    untranslated = [entry.msgid for entry in fresh.untranslated_entries()]
    fuzzy = [entry.msgid for entry in fresh.fuzzy_entries()]
    assert not untranslated, f"strings without pt_BR (run make messages and translate): {untranslated}"
    assert not fuzzy, f"fuzzy (guessed) translations to check: {fuzzy}"
    assert len(fresh) > 300
    committed = {entry.msgid for entry in polib.pofile(str(CATALOGUE))}
    assert {entry.msgid for entry in fresh} == committed, "the committed catalogue is stale: run make messages"


def test_placeholders_survive_translation():
    """Every named placeholder of a msgid is in its translation (each plural form too), and no other."""
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.msgid_plural:
            pairs = [(entry.msgid, entry.msgstr_plural[0]), (entry.msgid_plural, entry.msgstr_plural[1])]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translated in pairs:
            assert set(placeholder.findall(source)) == set(placeholder.findall(translated)), (source, translated)


@pytest.mark.django_db
def test_the_admin_speaks_pt_br_and_english(client):
    from tests.factories import make_contact

    make_user("root", role="admin", is_staff=True, is_superuser=True)
    make_contact(name="Maria")
    client.login(username="root", password="s3nha-forte-123")
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    for text in ("Mensagens", "Integrações", "Fluxos", "Contatos", "Execuções de fluxo", "Entregas de webhook"):
        assert text in page, text
    assert "Contacts" not in page and "Flow runs" not in page
    contacts = client.get("/admin/messaging/contact/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "Telefone" in contacts and "Última mensagem recebida em" in contacts and "Contato de teste" in contacts
    form = client.get("/admin/messaging/whatsappcloudchannel/add/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "ID do número" in form and "Deixe em branco para manter o token atual." in form
    english = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Messaging" in english and "Contacts" in english


@pytest.mark.django_db
def test_the_sandbox_page_follows_the_language(client):
    make_user("ana", role="editor")
    client.login(username="ana", password="s3nha-forte-123")
    pt = client.get("/sandbox/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "Celular de teste" in pt and "Adicionar contato" in pt and 'lang="pt-br"' in pt
    assert "Entregue" in pt  # the status names the page's script shows
    en = client.get("/sandbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sandbox phone" in en and "Add contact" in en


@pytest.mark.django_db
def test_api_errors_come_in_the_users_language_or_accept_language():
    editor = make_user("edu", role="editor")
    api = APIClient()
    api.force_authenticate(editor)
    english = api.post("/api/contacts/imports/", {"content": "\n\n"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["error"]["message"] == "Invalid input."
    assert english.json()["error"]["details"]["file"] == ["the file is empty"]
    portuguese = api.post("/api/contacts/imports/", {"content": "\n\n"}, format="json", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert portuguese.json()["error"]["message"] == "Dados inválidos."
    assert portuguese.json()["error"]["details"]["file"] == ["o arquivo está vazio"]
    # DRF's own messages too.
    missing = api.post("/api/contacts/imports/", {}, format="json", HTTP_ACCEPT_LANGUAGE="pt-BR").json()
    assert missing["error"]["details"]["content"] == ["Este campo é obrigatório."]
    viewer = APIClient()
    assert "credenciais" in viewer.get("/api/flows/", HTTP_ACCEPT_LANGUAGE="pt-BR").json()["error"]["message"]

    # A signed-in person's saved language wins over the browser's header.
    browser = APIClient()
    assert browser.post("/api/auth/login/", {"username": "edu", "password": "s3nha-forte-123"},
                        format="json").status_code == 200
    browser.patch("/api/auth/session/", {"language": "en"}, format="json")
    answer = browser.post("/api/contacts/imports/", {"content": "\n"}, format="json", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert answer.json()["error"]["details"]["file"] == ["the file is empty"]
    wrong = APIClient().post("/api/auth/login/", {"username": "edu", "password": "x"}, format="json",
                             HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert wrong.json()["error"]["message"] == "Usuário ou senha incorretos."
