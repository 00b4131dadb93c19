# InboundEvent now lives in core (see core/migrations/0001_initial.py): state-only changes here.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("flows", "0004_user_preference"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="flowrun",
                    name="trigger_event",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="started_runs", to="core.inboundevent"),
                ),
                migrations.AlterField(
                    model_name="runstep",
                    name="event",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="core.inboundevent"),
                ),
                migrations.DeleteModel(name="InboundEvent"),
            ],
        ),
    ]
