"""Segments, campaigns (audience, check, feeder, pause/resume/cancel), quality pauses, replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.campaigns import services
from messaging.campaigns.segments import SegmentInvalid, segment_contacts
from messaging.models import CampaignRecipient, ChannelAlert, Contact, DateEvent, Message, Segment, Tag
from tests.factories import make_contact, make_template

pytestmark = pytest.mark.django_db

OPTED_IN = {"marketing": {"state": "opted_in"}}


def _contact(phone: str, **extra) -> Contact:
    return make_contact(phone=phone, **extra)


def test_segment_conditions_compile_to_the_right_contacts(channel):
    vip = Tag.objects.create(name="vip")
    a = _contact("+5511987650001", attributes={"city": "Recife", "score": 10}, consent=OPTED_IN)
    a.tags.add(vip)
    b = _contact("+5511987650002", attributes={"city": "São Paulo", "score": 3}, in_window=False)
    c = _contact("+5511987650003", attributes={"due": "2026-04-01"}, consent={"marketing": {"state": "opted_out"}})

    def ids(definition):
        return set(segment_contacts(definition).values_list("pk", flat=True))

    assert ids({"conditions": [{"field": "tag", "op": "has", "value": "vip"}]}) == {a.pk}
    assert ids({"conditions": [{"field": "tag", "op": "not_has", "value": "vip"}]}) == {b.pk, c.pk}
    assert ids({"conditions": [{"field": "attribute", "key": "city", "op": "eq", "value": "Recife"}]}) == {a.pk}
    assert ids({"conditions": [{"field": "attribute", "key": "score", "op": "gte", "value": 5}]}) == {a.pk}
    assert ids({"conditions": [{"field": "attribute", "key": "due", "op": "lt", "value": "2026-05-01"}]}) == {c.pk}
    assert ids({"conditions": [{"field": "attribute", "key": "city", "op": "contains", "value": "paulo"}]}) == {b.pk}
    assert ids({"conditions": [{"field": "attribute", "key": "city", "op": "not_exists"}]}) == {c.pk}
    assert ids({"conditions": [{"field": "consent", "category": "marketing", "op": "is", "value": "opted_in"}]}) == {a.pk}
    assert ids({"conditions": [{"field": "consent", "category": "marketing", "op": "is", "value": "unknown"}]}) == {b.pk}
    assert ids({"conditions": [{"field": "last_inbound", "op": "never"}]}) == {b.pk}
    assert ids({"conditions": [{"field": "last_inbound", "op": "within_days", "value": 1}]}) == {a.pk, c.pk}
    assert ids({"match": "any", "conditions": [{"field": "tag", "op": "has", "value": "vip"},
                                               {"field": "last_inbound", "op": "never"}]}) == {a.pk, b.pk}
    saved = Segment.objects.create(name="vip", definition={"conditions": [{"field": "tag", "op": "has", "value": "vip"}]})
    assert ids({"conditions": [{"field": "segment", "op": "not_in", "value": saved.pk}]}) == {b.pk, c.pk}


@pytest.mark.parametrize("definition,where", [
    ({"conditions": [{"field": "raw_sql", "op": "eq", "value": "1"}]}, "conditions.0.field"),
    ({"conditions": [{"field": "attribute", "key": "x') OR 1=1 --", "op": "eq", "value": 1}]}, "conditions.0.key"),
    ({"conditions": [{"field": "attribute", "key": "city", "op": "regex", "value": ".*"}]}, "conditions.0.op"),
    ({"conditions": [{"field": "last_inbound", "op": "before", "value": "yesterday"}]}, "conditions.0.value"),
    ({"match": "some", "conditions": []}, "match"),
])
def test_bad_definitions_are_refused_with_the_place(definition, where):
    with pytest.raises(SegmentInvalid) as caught:
        segment_contacts(definition)
    assert caught.value.field == where


def test_segment_api_live_count_sample_and_errors(api, channel):
    _contact("+5511987650011", attributes={"city": "Recife"})
    _contact("+5511987650012", attributes={"city": "Natal"})
    definition = {"conditions": [{"field": "attribute", "key": "city", "op": "eq", "value": "Recife"}]}
    live = api.post("/api/segments/count/", {"definition": definition}, format="json")
    assert live.status_code == 200 and live.json()["count"] == 1
    assert live.json()["sample"][0]["phone"] == "+5511987650011"
    created = api.post("/api/segments/", {"name": "Recife", "definition": definition}, format="json")
    assert created.status_code == 201
    assert api.get(f"/api/segments/{created.json()['id']}/count/").json()["count"] == 1
    bad = api.post("/api/segments/", {"name": "x", "definition": {"conditions": [{"field": "nope"}]}}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    assert "definition.conditions.0.field" in bad.json()["error"]["details"]


def test_viewers_read_but_cannot_change(db):
    from rest_framework.test import APIClient

    from tests.factories import make_user

    client = APIClient()
    client.force_authenticate(make_user("vera", role="viewer"))
    assert client.get("/api/campaigns/").status_code == 200
    assert client.post("/api/segments/", {"name": "x", "definition": {}}, format="json").status_code == 403


def _campaign(channel, *, category="MARKETING", body="Oi {{1}}, promoção! Responda SAIR para sair.", n=0,
              contacts=None):
    template = make_template(name=f"promo_{category.lower()}", body=body, category=category)
    segment = Segment.objects.create(name="all", definition={"conditions": []})
    campaign = services.campaign_save(data={
        "name": "Promo", "channel": channel, "template": template, "segment": segment,
        "parameters": [{"source": "field", "value": "first_name"}]})
    return campaign


def test_audience_excludes_by_reason_and_check_warns_about_opt_out_text(channel):
    _contact("+5511987650021", consent=OPTED_IN, name="Ana Souza")
    _contact("+5511987650022", consent={"marketing": {"state": "opted_out"}})
    _contact("+5511987650023")  # unknown consent
    _contact("+12", consent=OPTED_IN)  # invalid number
    _contact("+5352345678", consent=OPTED_IN)  # Cuba: restricted
    campaign = _campaign(channel, body="Oi {{1}}, promoção!")
    from messaging.campaigns.selectors import audience_breakdown, campaign_estimate, campaign_preview

    audience = audience_breakdown(campaign)
    assert audience["total"] == 5 and audience["included"] == 1
    assert audience["excluded"]["opted_out"] == 1 and audience["excluded"]["not_opted_in"] == 1
    assert audience["excluded"]["invalid_number"] == 1 and audience["excluded"]["restricted_number"] == 1
    check = services.campaign_check(campaign=campaign)
    assert not check["errors"]
    assert "no_opt_out_text" in {w["code"] for w in check["warnings"]}
    assert campaign_preview(campaign)[0]["text"].startswith("Oi ")
    assert campaign_estimate(campaign)["recipients"] == 1


def test_free_form_cannot_be_a_campaign_and_unapproved_template_is_refused(channel):
    campaign = services.campaign_save(data={"name": "x", "channel": channel})
    codes = {e["code"] for e in services.campaign_check(campaign=campaign)["errors"]}
    assert {"no_template", "no_audience"} <= codes
    with pytest.raises(services.CampaignRejected):
        services.campaign_start(campaign=campaign)
    pending = make_template(name="pending_one", status="PENDING")
    campaign = services.campaign_save(campaign=campaign, data={"template": pending,
                                                               "parameters": [{"source": "constant", "value": "a"}]})
    assert "template_not_approved" in {e["code"] for e in services.campaign_check(campaign=campaign)["errors"]}


def test_feeder_queues_each_recipient_once_at_low_priority_and_completes(channel, settings):
    settings.FLUXO_CAMPAIGN_FEED_INTERVAL = 1
    for i in range(30):
        _contact(f"+55119876501{i:02d}", consent=OPTED_IN, name=f"Cliente {i}")
    campaign = _campaign(channel)
    services.campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == "running"
    first = services.campaign_feed(campaign_id=campaign.pk)
    assert first == 30
    assert services.campaign_feed(campaign_id=campaign.pk) == 0  # nobody twice
    messages = Message.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:r:")
    assert messages.count() == 30 and set(messages.values_list("priority", flat=True)) == {-10}
    assert messages.first().content["rendered_text"].startswith("Oi Cliente")
    messages.update(status="delivered")
    services.campaign_feed(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_messaging_limit_holds_recipients_outside_their_window(channel, settings):
    settings.WHATSAPP_DEFAULT_MESSAGING_LIMIT = 250
    for i in range(5):
        _contact(f"+55119876502{i:02d}", consent=OPTED_IN, in_window=False)
    for i in range(3):
        _contact(f"+55119876503{i:02d}", consent=OPTED_IN, in_window=True)
    from messaging.models import WhatsAppCloudChannel

    cloud = WhatsAppCloudChannel.objects.create(name="Cloud", phone_number_id="1", waba_id="2", messaging_limit=2,
                                                access_token="t", graph_api_base_url="http://127.0.0.1:9")
    Contact.objects.update(channel=cloud)
    campaign = _campaign(cloud)
    services.campaign_start(campaign=campaign)
    assert services.campaign_feed(campaign_id=campaign.pk) == 2  # the first two are outside: the limit stops there
    later = timezone.now() + timedelta(hours=25)
    queued = services.campaign_feed(campaign_id=campaign.pk, now=later)
    assert queued == 2  # the moving 24 hours freed both places
    counted = CampaignRecipient.objects.filter(campaign=campaign, status="queued", in_window=False).count()
    assert counted == 4


def test_pause_takes_back_what_is_queued_and_resume_sends_it_once(channel):
    for i in range(10):
        _contact(f"+55119876504{i:02d}", consent=OPTED_IN)
    campaign = _campaign(channel)
    services.campaign_start(campaign=campaign)
    services.campaign_feed(campaign_id=campaign.pk)
    keys = Message.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:r:")
    keys.filter(pk__in=list(keys.values_list("pk", flat=True)[:3])).update(status="sent")
    services.campaign_pause(campaign=campaign, reason="by hand")
    campaign.refresh_from_db()
    assert campaign.status == "paused" and keys.count() == 3  # the 7 not sent left the queue
    assert services.campaign_feed(campaign_id=campaign.pk) == 0
    services.campaign_resume(campaign=campaign)
    assert services.campaign_feed(campaign_id=campaign.pk) == 7
    assert keys.count() == 10 and len(set(keys.values_list("contact_id", flat=True))) == 10
    services.campaign_cancel(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == "cancelled" and keys.count() == 3


def test_quality_webhook_flagged_pauses_running_campaigns_with_an_alert(client, cloud_channel, fake_graph):
    from tests.messaging.conftest import post_webhook

    _contact("+5511987650601", consent=OPTED_IN, channel=cloud_channel)
    campaign = _campaign(cloud_channel)
    services.campaign_start(campaign=campaign)
    payload = {"object": "whatsapp_business_account", "entry": [{"id": cloud_channel.waba_id, "time": 1700000000,
               "changes": [{"field": "phone_number_quality_update", "value": {
                   "display_phone_number": "15550783881", "event": "FLAGGED", "current_limit": "TIER_1K"}}]}]}
    response = post_webhook(client, payload)
    assert response.status_code == 200, response.content
    from messaging.models import WebhookDelivery
    from messaging.webhooks import webhook_delivery_process

    for delivery in WebhookDelivery.objects.filter(state="pending"):
        webhook_delivery_process(delivery_id=delivery.pk)
    campaign.refresh_from_db()
    cloud_channel.refresh_from_db()
    assert campaign.status == "paused" and "quality" in campaign.pause_reason
    assert cloud_channel.quality_rating == "RED" and cloud_channel.messaging_limit_tier == "TIER_1K"
    assert ChannelAlert.objects.filter(channel=cloud_channel, code="quality").exists()
    services.campaign_resume(campaign=campaign)  # an operator resumes by hand
    campaign.refresh_from_db()
    assert campaign.status == "running"


def test_status_check_with_red_quality_pauses_too(cloud_channel, fake_graph):
    from messaging.channels import channel_check

    campaign = _campaign(cloud_channel)
    _contact("+5511987650701", consent=OPTED_IN, channel=cloud_channel)
    services.campaign_start(campaign=campaign)
    fake_graph.quality_rating = "RED"
    channel_check(channel=cloud_channel)
    campaign.refresh_from_db()
    assert campaign.status == "paused"


def test_api_campaign_wizard_test_send_start_pause_resume(api, channel):
    _contact("+5511987650801", consent=OPTED_IN, name="Bia Lima")
    template = make_template(name="promo_api", body="Oi {{1}}! Responda SAIR para sair.", category="MARKETING")
    segment = Segment.objects.create(name="all", definition={"conditions": []})
    created = api.post("/api/campaigns/", {"name": "Promo", "channel": channel.pk, "template": template.pk,
                                           "segment": segment.pk, "timezone": "America/Sao_Paulo",
                                           "parameters": [{"source": "field", "value": "first_name"}]}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    estimate = api.get(f"/api/campaigns/{pk}/estimate/").json()
    assert estimate["audience"]["included"] == 1 and "spreads_over_days" in estimate["estimate"]
    refused = api.post(f"/api/campaigns/{pk}/test-send/", {"phone": "+5511987650899"}, format="json")
    assert refused.status_code == 400  # marketing to a number not opted in: WhatsApp's rules apply
    Contact.objects.filter(phone="+5511987650899").update(consent=OPTED_IN)
    sent = api.post(f"/api/campaigns/{pk}/test-send/", {"phone": "+5511987650899"}, format="json")
    assert sent.status_code == 201 and sent.json()["text"].startswith("Oi ")
    assert api.post(f"/api/campaigns/{pk}/start/").json()["status"] == "running"
    assert api.post(f"/api/campaigns/{pk}/pause/", {}, format="json").json()["status"] == "paused"
    assert api.post(f"/api/campaigns/{pk}/resume/").json()["status"] == "running"
    progress = api.get(f"/api/campaigns/{pk}/progress/").json()
    assert "rates" in progress and "failures" in progress
    csv = api.get(f"/api/campaigns/{pk}/recipients/?export=csv")
    assert csv.status_code == 200 and csv.content.decode().startswith("phone,")
    assert api.post(f"/api/campaigns/{pk}/resume/").status_code == 400  # not paused


def test_scheduled_in_a_time_zone_starts_at_its_time(channel):
    from datetime import datetime

    _contact("+5511987650901", consent=OPTED_IN)
    campaign = _campaign(channel)
    campaign = services.campaign_save(campaign=campaign, data={"timezone": "America/Sao_Paulo",
                                                               "scheduled_at": datetime(2030, 1, 10, 9, 0)})
    assert campaign.scheduled_at.isoformat() == "2030-01-10T09:00:00-03:00"
    services.campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"
    services.campaign_pause(campaign=campaign, reason="not yet")
    services.campaign_resume(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"  # resumed before its time: it waits for it again
    services.campaigns_feed_due(now=campaign.scheduled_at + timedelta(seconds=1))
    campaign.refresh_from_db()
    assert campaign.status == "running"


def test_a_reply_is_counted_and_starts_the_reply_flow(channel):
    from flows.models import FlowRun
    from messaging.webhooks import sandbox_inbound_submit
    from tests.factories import chain, make_flow, node

    flow = make_flow(chain(node("t", "trigger", type="schedule"),
                           node("s", "set_variable", assignments=[{"target": "vars.x", "value": "1"}]),
                           node("e", "end")), name="Na resposta")
    contact = _contact("+5511987651001", consent=OPTED_IN)
    campaign = _campaign(channel)
    campaign = services.campaign_save(campaign=campaign, data={"reply_flow_id": flow.pk})
    services.campaign_start(campaign=campaign)
    services.campaign_feed(campaign_id=campaign.pk)
    Message.objects.filter(idempotency_key__startswith="campaign:").update(status="delivered")
    from messaging.webhooks import webhook_delivery_process

    delivery = sandbox_inbound_submit(contact=contact, text="quero!")
    webhook_delivery_process(delivery_id=delivery.pk)  # what the inbound worker does
    recipient = CampaignRecipient.objects.get(campaign=campaign, contact=contact)
    assert recipient.replied_at is not None
    run = FlowRun.objects.get(flow=flow, contact=contact)
    assert recipient.run_id == run.pk


def test_planning_records_the_same_reasons_the_audience_showed(channel):
    from django.db.models import Count

    from messaging.campaigns.selectors import audience_breakdown

    _contact("+5511987652001", consent=OPTED_IN)
    _contact("+5511987652002", consent=OPTED_IN)
    _contact("+5511987652003", consent={"marketing": {"state": "opted_out"}})
    _contact("+5511987652004")
    _contact("+12", consent=OPTED_IN)
    _contact("+5352345678", consent=OPTED_IN)
    campaign = _campaign(channel)
    services.campaign_test_send(campaign=campaign, phone="+5511987652002")  # then: already messaged
    before = audience_breakdown(campaign)
    assert services.campaign_plan(campaign_id=campaign.pk, batch=4) == 6  # two batches
    campaign.refresh_from_db()
    assert campaign.planned
    planned = dict(CampaignRecipient.objects.filter(campaign=campaign).values_list("reason").annotate(n=Count("id")))
    assert planned == {"": 1, "already_messaged": 1, "opted_out": 1, "not_opted_in": 1, "invalid_number": 1,
                       "restricted_number": 1}
    assert before["included"] == 1 and before["excluded"]["already_messaged"] == 1
    after = audience_breakdown(campaign)
    assert after["included"] == 1 and after["excluded"] == before["excluded"]


def test_branch_contact_is_in_segment(contact):
    from messaging.models import Tag as TagModel
    from tests.flows.test_nodes import branch_port, when

    segment = Segment.objects.create(name="vip", definition={"conditions": [{"field": "tag", "op": "has", "value": "vip"}]})
    assert branch_port(contact, when("in_segment", str(segment.pk), left=None)) == "default"
    assert branch_port(contact, when("not_in_segment", str(segment.pk), left=None)) == "yes"
    contact.tags.add(TagModel.objects.create(name="vip"))
    assert branch_port(contact, when("in_segment", str(segment.pk), left=None)) == "yes"


def test_admin_lists_campaigns_recipients_segments_and_date_events(admin_client, channel):
    _contact("+5511987653001", consent=OPTED_IN)
    campaign = _campaign(channel)
    services.campaign_plan(campaign_id=campaign.pk)
    DateEvent.objects.create(name="x", attribute="due", flow_id=1)
    for path in ("campaign", "campaignrecipient", "segment", "dateevent", "dateeventfire"):
        assert admin_client.get(f"/admin/messaging/{path}/").status_code == 200, path
    assert admin_client.get(f"/admin/messaging/segment/{campaign.segment_id}/change/").status_code == 200
