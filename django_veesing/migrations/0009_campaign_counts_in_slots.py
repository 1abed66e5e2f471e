"""A campaign's counts move from its row to rows of their own (``CampaignCount``), so that
receipts for one campaign no longer queue on one row lock. Each campaign's counts go to
slot 0; the columns are dropped."""

import django.db.models.deletion
from django.db import migrations, models

COUNTED = ("total", "pending", "submitted", "delivered", "failed", "skipped", "expired")


def to_slots(apps, schema_editor):
    Campaign = apps.get_model("django_veesing", "Campaign")
    CampaignCount = apps.get_model("django_veesing", "CampaignCount")
    columns = [f"{name}_count" for name in COUNTED]
    for campaign_id, *counts in Campaign.objects.values_list("id", *columns).iterator(chunk_size=2000):
        CampaignCount.objects.create(campaign_id=campaign_id, slot=0, **dict(zip(COUNTED, counts, strict=True)))


def to_columns(apps, schema_editor):
    Campaign = apps.get_model("django_veesing", "Campaign")
    CampaignCount = apps.get_model("django_veesing", "CampaignCount")
    sums = {name: models.Sum(name) for name in COUNTED}
    for row in CampaignCount.objects.values("campaign_id").annotate(**sums):
        Campaign.objects.filter(pk=row["campaign_id"]).update(**{f"{name}_count": row[name] for name in COUNTED})


class Migration(migrations.Migration):
    dependencies = [
        ("django_veesing", "0008_recipient_rows_in_place"),
    ]

    operations = [
        migrations.CreateModel(
            name="CampaignCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slot", models.PositiveSmallIntegerField()),
                ("total", models.BigIntegerField(default=0, db_default=0)),
                ("pending", models.BigIntegerField(default=0, db_default=0)),
                ("submitted", models.BigIntegerField(default=0, db_default=0)),
                ("delivered", models.BigIntegerField(default=0, db_default=0)),
                ("failed", models.BigIntegerField(default=0, db_default=0)),
                ("skipped", models.BigIntegerField(default=0, db_default=0)),
                ("expired", models.BigIntegerField(default=0, db_default=0)),
                (
                    "campaign",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="django_veesing.campaign",
                    ),
                ),
            ],
            options={
                "verbose_name": "campaign count",
                "verbose_name_plural": "campaign counts",
                "constraints": [
                    models.UniqueConstraint(fields=("campaign", "slot"), name="veesing_campaign_count_slot")
                ],
            },
        ),
        migrations.RunPython(to_slots, to_columns),
        *(migrations.RemoveField(model_name="campaign", name=f"{name}_count") for name in COUNTED),
    ]
