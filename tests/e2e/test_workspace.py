"""The workspace as a newcomer uses it, in real Chromium: connect a WhatsApp Cloud API number
against the local fake Graph API, sync templates, create an API key, copy the curl of an
external-event trigger and run it (the run starts), import contacts from a CSV with two bad rows,
read a contact's consent history — in pt-BR, then the same pages in English."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from flows.models import FlowRun
from messaging.models import Contact, WhatsAppCloudChannel
from messaging.services import channel_pause
from tests.e2e.conftest import ARTIFACTS, shot
from tests.e2e.helpers import PASSWORD
from tests.factories import chain, make_flow, make_user, node
from tests.messaging.fake_graph import FakeGraph

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

APP_SECRET = "segredo-do-app-meta-123"
TEMPLATES = [
    {"id": "901", "name": "retorno_ligacao", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY",
     "components": [{"type": "HEADER", "format": "TEXT", "text": "Loja Exemplo"},
                    {"type": "BODY", "text": "Olá {{1}}, tentamos falar com você às {{2}}. Podemos ligar de novo?"},
                    {"type": "FOOTER", "text": "Responda SAIR para não receber mais"},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Pode ligar"},
                                                    {"type": "QUICK_REPLY", "text": "Agora não"}]}]},
    {"id": "902", "name": "promo_natal", "language": "pt_BR", "status": "PENDING", "category": "MARKETING",
     "components": [{"type": "BODY", "text": "{{nome}}, 20% de desconto até o Natal!"}]},
]
CSV = """Telefone;Nome;Cidade;Aceita marketing
(11) 98765-2001;Ana Paula;Campinas;sim
(21) 98765-2002;Bruno Reis;Rio de Janeiro;não
12345;Número curto;Recife;sim
(31) 98765-2004;Carla Dias;Belo Horizonte;talvez
(41) 98765-2005;Davi Melo;Curitiba;sim
"""


@pytest.fixture
def graph():
    fake = FakeGraph(templates=TEMPLATES).start()
    yield fake
    fake.stop()


def wait_until(check, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def signed_webhook(base_url: str, phone_number_id: str) -> int:
    from messaging.webhooks import signature_expected

    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511400012 34", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": "5511987650099"}],
            "messages": [{"from": "5511987650099", "id": "wamid.e2e.1", "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": "Oi"}}]}}]}]}).encode()
    request = urllib.request.Request(f"{base_url}/webhooks/whatsapp/", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature_expected(body, APP_SECRET)})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_newcomer_sets_up_the_workspace_in_pt_br_and_reads_it_in_english(browser_page, graph, tmp_path):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.base_url)
    make_user("nina", role="admin", first_name="Nina", is_staff=True)
    flow = make_flow(chain(node("t", "trigger", event="external", event_name="call.finished"),
                           node("s", "set_variable", assignments=[{"target": "vars.result",
                                                                   "value": "{{trigger.call_result}}"}]),
                           node("e", "end")), name="Pós-ligação")

    # A deep link survives the login.
    page.goto(page.base_url + "/channels/new")
    page.locator("[data-testid=login-form]").wait_for()
    assert "next=%2Fchannels%2Fnew" in page.url
    page.fill("input[name=username]", "nina")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-form] button[type=submit]")
    page.locator("[data-testid=channel-connect]").wait_for()
    expect(page.locator("[data-testid=nav-channels]")).to_have_attribute("aria-current", "page")

    # 1. Connect the number, guided; the token is checked against the (fake) Graph API first.
    expect(page.locator("[data-testid=callback-url]")).to_have_text(f"{page.base_url}/webhooks/whatsapp/")
    verify_token = page.locator("[data-testid=channel-verify-token]").input_value()
    assert len(verify_token) >= 24
    page.fill("[data-testid=channel-name]", "Atendimento SP")
    page.fill("[data-testid=channel-phone-number-id]", graph.phone_number_id)
    page.fill("[data-testid=channel-waba-id]", graph.waba_id)
    page.fill("[data-testid=channel-token]", "EAAG-token-errado")
    page.fill("[data-testid=channel-app-secret]", APP_SECRET)
    page.click("[data-testid=channel-advanced]")
    page.fill("[data-testid=channel-graph-url]", graph.base_url)
    page.click("[data-testid=channel-check]")
    result = page.locator("[data-testid=check-result]")
    expect(result).to_have_attribute("data-ok", "false")
    expect(result).to_contain_text("A Meta recusou")
    expect(result).to_contain_text("token")
    page.fill("[data-testid=channel-token]", graph.token)
    page.click("[data-testid=channel-check]")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("Loja Exemplo")
    expect(result).to_contain_text("Alta")
    shot(page, "ws-01-connect-pt")
    page.click("[data-testid=channel-save]")
    page.locator("[data-testid=channel-page]").wait_for()
    channel = WhatsAppCloudChannel.objects.get(phone_number_id=graph.phone_number_id)
    assert channel.access_token == graph.token and channel.verify_token == verify_token
    assert graph.token not in page.content() and APP_SECRET not in page.content()
    expect(page.locator("[data-testid=webhook-arrivals]")).to_contain_text("Nenhum webhook recebido ainda")
    page.click("[data-testid=recheck-channel]")
    expect(page.locator("[data-testid=channel-quality]")).to_contain_text("Alta")
    expect(page.locator("[data-testid=messaging-limit]")).to_contain_text("1.000 clientes novos por dia")
    assert signed_webhook(page.base_url, graph.phone_number_id) == 200
    page.reload()
    expect(page.locator("[data-testid=webhook-arrivals]")).to_contain_text("Chegando")
    shot(page, "ws-02-channel-pt")
    # Meta refuses the token later: the channel pauses; the page says why and resumes it.
    channel_pause(channel=WhatsAppCloudChannel.objects.get(phone_number_id=graph.phone_number_id), code="190",
                  reason="the access token expired or is invalid")
    page.reload()
    expect(page.locator("[data-testid=paused-banner]")).to_contain_text("A Meta recusou o token de acesso")
    expect(page.locator("[data-testid=channel-state]")).to_have_text("Pausado")
    shot(page, "ws-02b-channel-paused-pt")
    page.click("[data-testid=resume-channel]")
    expect(page.locator("[data-testid=channel-notice]")).to_contain_text("Canal retomado")
    expect(page.locator("[data-testid=paused-banner]")).to_have_count(0)
    assert WhatsAppCloudChannel.objects.get(phone_number_id=graph.phone_number_id).paused_at is None

    # 2. Templates: sync now, then the preview with its placeholders.
    page.click("[data-testid=nav-templates]")
    page.click("[data-testid=sync-templates]")
    expect(page.locator("[data-testid=sync-notice]")).to_contain_text("Atendimento SP")
    cards = page.locator("[data-testid=template-card]")
    expect(cards).to_have_count(2)
    first = cards.filter(has_text="retorno_ligacao")
    expect(first.locator("[data-testid=placeholder]")).to_have_count(2)
    expect(first).to_contain_text("Pode ligar")
    expect(first).to_contain_text("Aprovado")
    page.select_option("[data-testid=template-status]", "PENDING")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Em análise")
    page.select_option("[data-testid=template-status]", "")
    shot(page, "ws-03-templates-pt")

    # 3. An API key for the phone system, shown once with a copy button.
    page.click("[data-testid=nav-integrations]")
    page.fill("[data-testid=key-name]", "PABX")
    page.click("[data-testid=create-key]")
    api_key = page.locator("[data-testid=new-api-key]").inner_text()
    assert api_key.startswith("flx_")
    page.click("[data-testid=new-api-key-copy]")
    assert page.evaluate("navigator.clipboard.readText()") == api_key
    shot(page, "ws-04-api-key-pt")

    # 4. The external-event trigger shows the request; copy it as curl and run it: the run starts.
    page.goto(f"{page.base_url}/flows/{flow.pk}")
    page.locator("[data-testid=node-t] header").click()
    help_box = page.locator("[data-testid=external-event-help]")
    expect(help_box).to_contain_text(f"POST {page.base_url}/api/events/")
    body = json.loads(help_box.locator("[data-testid=event-body]").inner_text())
    assert body["event"] == "call.finished" and body["data"] == {"call_result": "<call_result>"}
    shot(page, "ws-05-trigger-help-pt")
    help_box.locator("[data-testid=copy-curl]").click()
    curl = page.evaluate("navigator.clipboard.readText()")
    assert curl.startswith(f"curl -X POST '{page.base_url}/api/events/'") and "$FLUXO_API_KEY" in curl
    done = subprocess.run(["bash", "-c", curl + " -s -w '\\n%{http_code}'"], capture_output=True, text=True,
                          timeout=30, env={**os.environ, "FLUXO_API_KEY": api_key})
    assert done.stdout.strip().endswith("202"), (done.stdout, done.stderr)
    run = wait_until(lambda: FlowRun.objects.filter(flow=flow).first(), what="the run of the curl event")
    assert run.context["trigger"]["event"] == "call.finished"

    # 5. Import a CSV with two bad rows (and a duplicate-free rest); dry run first, then import.
    csv_file = tmp_path / "clientes.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.click("[data-testid=nav-contacts]")
    page.click("[data-testid=import-contacts]")
    page.set_input_files("[data-testid=import-file]", str(csv_file))
    expect(page.locator("[data-testid=import-rows]")).to_contain_text("5 linha(s)")
    expect(page.locator("[data-testid=map-phone]")).to_have_value("Telefone")
    expect(page.locator("[data-testid=map-consent]")).to_have_value("Aceita marketing")
    page.click("[data-testid=dry-run]")
    bad = page.locator("[data-testid=bad-row]")
    expect(bad).to_have_count(2)
    expect(bad.nth(0)).to_contain_text("Telefone inválido")
    expect(bad.nth(1)).to_contain_text("Consentimento ilegível")
    expect(page.locator("[data-testid=run-import]")).to_be_disabled()
    assert Contact.objects.filter(name="Ana Paula").count() == 0  # a dry run writes nothing
    shot(page, "ws-06-import-dry-run-pt")
    page.check("[data-testid=skip-invalid]")
    page.click("[data-testid=run-import]")
    expect(page.locator("[data-testid=import-done]")).to_contain_text("3 criado(s)", timeout=30_000)
    shot(page, "ws-07-import-done-pt")
    assert Contact.objects.get(phone="+5511987652001").consent_state("marketing") == "opted_in"

    # 6. One contact's consent history, from the list.
    page.click("[data-testid=nav-contacts]")
    page.fill("[data-testid=contact-search]", "Bruno")
    expect(page.locator("[data-testid=contact-row]")).to_have_count(1)
    page.locator("[data-testid=contact-row] a").click()
    history = page.locator("[data-testid=consent-history]")
    expect(history.locator("[data-testid=consent-entry]")).to_have_count(1)
    expect(history).to_contain_text("Recusou")
    expect(history).to_contain_text("clientes.csv")
    page.click("[data-testid=opt-out]")
    page.fill("[data-testid=opt-out-note]", "pediu por telefone")
    page.click("[data-testid=opt-out-confirm]")
    expect(page.locator("[data-testid=consent-utility]")).to_contain_text("Recusou")
    expect(page.locator("[data-testid=consent-authentication]")).to_contain_text("Recusou")
    expect(history.locator("[data-testid=consent-entry]")).to_have_count(3)
    expect(history).to_contain_text("pediu por telefone")
    shot(page, "ws-08-contact-pt")
    contact_url = page.url

    # A colleague with the editor role, created by the admin.
    page.click("[data-testid=nav-settings]")
    page.fill("[data-testid=person-username]", "caio")
    page.select_option("[data-testid=person-role]", "editor")
    page.fill("[data-testid=person-password]", "s3nha-forte-789")
    page.click("[data-testid=person-create]")
    expect(page.locator("[data-testid=person-row]", has_text="caio")).to_be_visible()
    shot(page, "ws-09-people-pt")
    page.goto(page.base_url + "/sandbox/")
    expect(page.locator("h1")).to_have_text("Celular de teste")
    expect(page.locator("#chat-title")).to_have_text("Escolha um contato")
    shot(page, "ws-10-sandbox-pt")
    page.goto(contact_url)
    page.locator("[data-testid=consent-history]").wait_for()
    channel_url = f"{page.base_url}/channels/{channel.pk}"

    # The same pages in English.
    page.select_option("[data-testid=language-switch]", "en")
    expect(page.locator("[data-testid=consent-history]")).to_contain_text("Opted out")
    expect(page.locator("[data-testid=nav-contacts]")).to_have_text(re.compile("Contacts"))
    shot(page, "ws-11-contact-en")
    page.goto(channel_url)
    expect(page.locator("[data-testid=channel-quality]")).to_contain_text("High")
    expect(page.locator("[data-testid=messaging-limit]")).to_contain_text("1,000 new customers a day")
    expect(page.locator("[data-testid=webhook-arrivals]")).to_contain_text("Arriving")
    shot(page, "ws-12-channel-en")
    page.goto(page.base_url + "/templates")
    expect(page.locator("[data-testid=template-card]", has_text="retorno_ligacao")).to_contain_text("Approved")
    shot(page, "ws-13-templates-en")
    page.goto(page.base_url + "/integrations")
    expect(page.locator("[data-testid=key-table]")).to_contain_text("Active")
    page.click("[data-testid=key-calls-toggle]")
    expect(page.locator("[data-testid=key-calls]")).to_contain_text("call.finished")
    shot(page, "ws-14-integrations-en")
    page.goto(page.base_url + "/contacts/import")
    page.set_input_files("[data-testid=import-file]", str(csv_file))
    page.click("[data-testid=dry-run]")
    expect(page.locator("[data-testid=bad-row]").nth(0)).to_contain_text("Invalid phone")
    shot(page, "ws-15-import-en")
    page.goto(contact_url)
    expect(page.locator("[data-testid=contact-consent]")).to_contain_text("Consent history")
    page.goto(page.base_url + "/settings")
    expect(page.locator("[data-testid=people]")).to_contain_text("People and roles")
    page.goto(page.base_url + "/sandbox/")
    expect(page.locator("h1")).to_have_text("Sandbox phone")  # the saved language reaches Django's pages
    page.goto(page.base_url + "/channels/new")
    expect(page.locator("[data-testid=channel-connect]")).to_contain_text("Callback URL")
    shot(page, "ws-16-connect-en")
    assert not page.js_errors, page.js_errors
    from django.contrib.auth import get_user_model

    assert sorted(get_user_model().objects.get(username="caio").groups.values_list("name", flat=True)) == ["editor"]
    assert (ARTIFACTS / "ws-16-connect-en.png").exists()
