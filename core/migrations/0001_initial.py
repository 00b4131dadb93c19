# The inbox's InboundEvent moves from the flows app to core (its table is renamed; no data moves).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("flows", "0004_user_preference"),
        ("messaging", "0002_webhooks_alerts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL("ALTER TABLE flows_inboundevent RENAME TO core_inboundevent",
                                  "ALTER TABLE core_inboundevent RENAME TO flows_inboundevent"),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="InboundEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[("message", "Inbound message"), ("interactive_reply", "Button or list reply"), ("status", "Message status update"), ("opt_in", "Opt-in"), ("opt_out", "Opt-out"), ("external", "External system call"), ("schedule", "Schedule"), ("timer", "Timer (delay or wait timeout)"), ("test_control", "Test-run control"), ("system", "System or account update")], db_index=True, max_length=32)),
                        ("dedupe_key", models.CharField(max_length=255, unique=True)),
                        ("payload", models.JSONField(default=dict, help_text="Normalized event, the flows' {{trigger.*}}.")),
                        ("raw", models.JSONField(blank=True, help_text="The provider's own piece of payload, as received.", null=True)),
                        ("state", models.CharField(choices=[("pending", "Pending"), ("done", "Done"), ("failed", "Failed"), ("ignored", "Ignored")], default="pending", max_length=16)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("occurred_at", models.DateTimeField(blank=True, null=True)),
                        ("received_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                        ("channel", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="messaging.channel")),
                        ("contact", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="events", to="messaging.contact")),
                    ],
                    options={
                        "ordering": ["id"],
                        "indexes": [models.Index(condition=models.Q(("state", "pending")), fields=["contact", "id"], name="event_pending_by_contact")],
                    },
                ),
            ],
        ),
    ]
