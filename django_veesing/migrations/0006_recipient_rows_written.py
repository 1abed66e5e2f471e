"""Write the rows that range batches stood for.

Up to 0.1.0.dev0 a range batch accepted by the provider stood for its recipients, whose
rows stayed ``pending`` with no batch, and a claimed one left them unlinked. From now on
every row says what it is: this writes, for each range batch, the rows it stood for
(``submitted`` with the batch and its task id) or holds (linked to it, still pending).
The campaigns' counts already counted those numbers so and do not change.
"""

from django.db import migrations

STOOD_FOR = ("submitted",)
HELD = ("claimed", "uncertain")


def write_rows(apps, schema_editor):
    Batch = apps.get_model("django_veesing", "Batch")
    Recipient = apps.get_model("django_veesing", "Recipient")
    ranges = Batch.objects.filter(first_id__isnull=False, state__in=STOOD_FOR + HELD).order_by("id")
    for batch in ranges.iterator(chunk_size=500):
        rows = Recipient.objects.filter(
            campaign_id=batch.campaign_id,
            id__range=(batch.first_id, batch.last_id),
            status="pending",
            batch__isnull=True,
        )
        if batch.state in STOOD_FOR:
            rows.update(status="submitted", batch_id=batch.pk, task_id=batch.task_id)
        else:
            rows.update(batch_id=batch.pk)


class Migration(migrations.Migration):
    dependencies = [("django_veesing", "0005_app_clock")]

    operations = [migrations.RunPython(write_rows, migrations.RunPython.noop, elidable=True)]
