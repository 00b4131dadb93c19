"""Campaigns in real Chromium against a live Fluxo (uvicorn, worker, beat) and the fake Graph API:
build a segment with its live count, create a campaign, send to one test number, start it, watch
the progress bar move, pause (nothing more leaves), resume (it finishes), each recipient once."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from messaging.models import Campaign, Contact, MessageTemplate, Tag, WhatsAppCloudChannel
from tests.e2e.conftest import shot
from tests.e2e.helpers import login
from tests.factories import make_user
from tests.messaging.fake_graph import FakeGraph

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

N = 120


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


def _sent_count(page) -> int:
    return int(page.get_by_test_id("count-sent").locator("strong").inner_text())


def test_segment_campaign_test_send_start_progress_pause_resume(browser_page, graph):
    page = browser_page
    make_user("camila", role="editor")
    channel = WhatsAppCloudChannel.objects.create(
        name="Loja", phone_number_id=graph.phone_number_id, waba_id=graph.waba_id, access_token=graph.token,
        app_secret="s", graph_api_base_url=graph.base_url, messages_per_second=10, messaging_limit=100000)
    MessageTemplate.objects.create(channel=channel, name="ofertas", language="pt_BR", status="APPROVED",
                                   category="MARKETING", parameter_count=1,
                                   components=[{"type": "BODY", "text": "Oi {{1}}! Ofertas da semana. Responda SAIR para sair."}])
    vip = Tag.objects.create(name="vip")
    opted = {"marketing": {"state": "opted_in"}}
    contacts = Contact.objects.bulk_create([
        Contact(phone=f"+5511{971000000 + i}", name=f"Cliente {i}", channel=channel, consent=opted) for i in range(N + 20)])
    vip.contacts.add(*contacts[:N])
    Contact.objects.create(phone="+5511971999999", name="Teste", channel=channel, consent=opted)

    login(page, "camila")
    page.goto(page.base_url + "/segments")
    page.get_by_test_id("segment-new").click()
    page.get_by_test_id("segment-name").fill("Clientes VIP")
    page.get_by_test_id("add-condition").click()
    page.get_by_test_id("condition-value").fill("vip")
    expect(page.get_by_test_id("segment-count")).to_have_text(f"{N} contatos")
    page.get_by_test_id("segment-save").click()
    expect(page.get_by_test_id("segment-row")).to_have_count(1)

    page.goto(page.base_url + "/campaigns/new")
    page.get_by_test_id("campaign-name").fill("Ofertas VIP")
    page.get_by_test_id("campaign-template").select_option(label="ofertas (pt_BR, MARKETING)")
    page.get_by_test_id("campaign-segment").select_option(label="Clientes VIP")
    page.get_by_test_id("campaign-save").click()
    expect(page.get_by_test_id("campaign-audience")).to_be_visible()
    expect(page.get_by_test_id("audience-included")).to_have_text(f"{N} recebem")
    expect(page.get_by_test_id("check-warn")).to_be_visible()  # marketing: only opted-in contacts
    expect(page.get_by_test_id("campaign-preview").first).to_contain_text("Oi Cliente")

    page.get_by_test_id("test-phone").fill("+5511971999999")
    page.get_by_test_id("test-send").click()
    expect(page.get_by_test_id("test-sent")).to_contain_text("Oi Teste!")
    shot(page, "campaign-draft")

    page.get_by_test_id("campaign-start").click()
    expect(page.get_by_test_id("campaign-status")).to_have_text("Enviando")
    expect(page.get_by_test_id("progress-value")).not_to_have_text(re.compile(r"^0%"), timeout=30_000)
    page.get_by_test_id("campaign-pause").click()
    expect(page.get_by_test_id("campaign-status")).to_have_text("Pausada")
    shot(page, "campaign-paused")
    campaign = Campaign.objects.get(name="Ofertas VIP")
    assert campaign.status == "paused"
    page.wait_for_timeout(2500)  # in-flight sends settle
    settled = len(graph.sent)
    page.wait_for_timeout(3000)
    assert len(graph.sent) == settled  # nothing more leaves while paused
    assert settled < N + 1

    page.get_by_test_id("campaign-resume").click()
    expect(page.get_by_test_id("campaign-status")).to_have_text("Enviando")
    expect(page.get_by_test_id("progress-value")).to_have_text(re.compile(r"^100%"), timeout=60_000)
    shot(page, "campaign-done")
    keys = Counter(body["biz_opaque_callback_data"] for body in graph.sent if body)
    campaign_keys = [k for k in keys if k.startswith(f"campaign:{campaign.pk}:r:")]
    assert len(campaign_keys) == N and max(keys.values()) == 1
    assert not page.js_errors, page.js_errors
