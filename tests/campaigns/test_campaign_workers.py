"""A 2,000-recipient campaign end to end through real worker and beat processes against the fake
Graph API, with the worker killed midway and another started: each recipient reaches Meta once."""

from __future__ import annotations

from collections import Counter

import pytest

from messaging.campaigns import services
from messaging.models import Campaign, CampaignRecipient, Contact, Message, Segment
from messaging.outbound import messages_requeue_stale
from messaging.webhooks import status_apply
from tests.factories import make_template
from tests.workers import start_beat, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

N = 2000
ENV = {"WHATSAPP_SENDING_LEASE": "8", "FLUXO_KICK_TTL": "3", "FLUXO_CAMPAIGN_FEED_INTERVAL": "0.5"}


def test_campaign_of_2000_with_a_worker_killed_midway_sends_each_recipient_once(workers, cloud_channel, fake_graph,
                                                                                settings):
    from django.db import transaction

    settings.FLUXO_KICK_TTL = 3
    type(cloud_channel).objects.filter(pk=cloud_channel.pk).update(messages_per_second=400, messaging_limit=100000)
    Contact.objects.bulk_create([
        Contact(phone=f"+5511{970000000 + i}", name=f"Cliente {i}", channel=cloud_channel,
                consent={"marketing": {"state": "opted_in"}}) for i in range(N)], batch_size=1000)
    template = make_template(name="promo_e2e", body="Oi {{1}}! Responda SAIR para sair.", category="MARKETING")
    segment = Segment.objects.create(name="all", definition={"conditions": []})
    campaign = services.campaign_save(data={"name": "E2E", "channel": cloud_channel, "template": template,
                                            "segment": segment, "parameters": [{"source": "field", "value": "name"}]})
    beat = start_beat(**ENV)
    try:
        doomed = workers("doomed", **ENV)
        services.campaign_start(campaign=campaign)
        wait_for(lambda: len(fake_graph.sent) >= N // 4, timeout=120,
                 message=f"a quarter sent\n{doomed.output()}")
        doomed.kill()  # mid-campaign: claims, sends in flight, a feeder tick may die with it
        received = {body["biz_opaque_callback_data"] for body in fake_graph.sent if body}
        # Meta got what reached it: its status webhooks carry our keys back (the dead worker never
        # recorded those answers).
        with transaction.atomic():
            for message in Message.objects.filter(status__in=("sending", "uncertain"), idempotency_key__in=received):
                status_apply(channel=cloud_channel, status={
                    "id": f"wamid.meta.{message.pk}", "status": "sent", "timestamp": "1750000000",
                    "recipient_id": message.contact.phone.lstrip("+"),
                    "biz_opaque_callback_data": message.idempotency_key})
        rescuer = workers("rescuer", **ENV)

        def all_sent() -> bool:
            messages_requeue_stale(grace_seconds=5)  # what the beat's re-queue job does, sooner
            done = Message.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:r:",
                                          status__in=("sent", "delivered")).count()
            return done == N

        wait_for(all_sent, timeout=240, interval=1.0, message=f"all {N} sent\n{rescuer.output()}")
        wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == "completed", timeout=60,
                 message="the campaign completed")
    finally:
        beat.stop()
    keys = Counter(body["biz_opaque_callback_data"] for body in fake_graph.sent if body)
    expected = {f"campaign:{campaign.pk}:r:{pk}"
                for pk in CampaignRecipient.objects.filter(campaign=campaign).values_list("pk", flat=True)}
    assert len(expected) == N
    assert set(keys) == expected  # nobody lost
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]  # nobody twice
    assert CampaignRecipient.objects.filter(campaign=campaign, status="queued").count() == N
