"""Data migrations, run against rows written the way the earlier schema left them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("django_veesing", "0005_app_clock")]
AFTER = [("django_veesing", "0006_recipient_rows_written")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture(autouse=True)
def back_to_the_latest():
    """Leave the schema as the other tests expect it."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_rows_that_range_batches_stood_for_are_written():
    apps = migrate(BEFORE)
    Campaign = apps.get_model("django_veesing", "Campaign")
    Batch = apps.get_model("django_veesing", "Batch")
    Recipient = apps.get_model("django_veesing", "Recipient")
    campaign = Campaign.objects.create(name="old", content="【测试】通知")
    rows = [Recipient.objects.create(campaign=campaign, phone=str(13800000000 + i)) for i in range(7)]
    ids = [r.pk for r in rows]
    submitted = Batch.objects.create(
        campaign=campaign, state="submitted", size=3, task_id="T1", first_id=ids[0], last_id=ids[2]
    )
    claimed = Batch.objects.create(campaign=campaign, state="claimed", size=2, first_id=ids[3], last_id=ids[4])
    Recipient.objects.filter(pk=ids[1]).update(status="delivered", batch=submitted, task_id="T1")  # its receipt came
    Recipient.objects.filter(pk=ids[2]).update(status="skipped")  # opted out: not stood for

    apps = migrate(AFTER)
    Recipient = apps.get_model("django_veesing", "Recipient")
    found = {r.pk: (r.status, r.batch_id, r.task_id) for r in Recipient.objects.all()}
    assert found[ids[0]] == ("submitted", submitted.pk, "T1")
    assert found[ids[1]] == ("delivered", submitted.pk, "T1")
    assert found[ids[2]] == ("skipped", None, "")
    assert found[ids[3]] == found[ids[4]] == ("pending", claimed.pk, "")
    assert found[ids[5]] == found[ids[6]] == ("pending", None, "")  # not claimed yet


def test_queued_batches_get_the_id_range_of_their_rows():
    apps = migrate([("django_veesing", "0007_recipient_rows_rewritten_in_place")])
    Campaign = apps.get_model("django_veesing", "Campaign")
    Batch = apps.get_model("django_veesing", "Batch")
    Recipient = apps.get_model("django_veesing", "Recipient")
    campaign = Campaign.objects.create(name="old", content="【测试】通知")
    rows = [Recipient.objects.create(campaign=campaign, phone=str(13800000000 + i)) for i in range(6)]
    queued = Batch.objects.create(campaign=campaign, state="queued", size=2)  # as requeue made them
    Recipient.objects.filter(pk__in=[rows[1].pk, rows[4].pk]).update(batch=queued)
    emptied = Batch.objects.create(campaign=campaign, state="queued", size=0)

    apps = migrate([("django_veesing", "0008_recipient_rows_in_place")])
    Batch = apps.get_model("django_veesing", "Batch")
    assert Batch.objects.values_list("first_id", "last_id").get(pk=queued.pk) == (rows[1].pk, rows[4].pk)
    assert Batch.objects.values_list("first_id", "last_id").get(pk=emptied.pk) == (0, 0)


def test_campaign_counts_move_to_their_slot_rows_and_back():
    apps = migrate([("django_veesing", "0008_recipient_rows_in_place")])
    Campaign = apps.get_model("django_veesing", "Campaign")
    counted = Campaign.objects.create(name="old", content="【测试】通知", total_count=5, pending_count=1)
    Campaign.objects.filter(pk=counted.pk).update(submitted_count=1, delivered_count=2, failed_count=1)
    empty = Campaign.objects.create(name="empty", content="【测试】通知")

    migrate([("django_veesing", "0009_campaign_counts_in_slots")])
    from django_veesing.models import Campaign as Current

    found = Current.objects.get(pk=counted.pk)
    assert (found.total_count, found.pending_count, found.submitted_count) == (5, 1, 1)
    assert (found.delivered_count, found.failed_count, found.expired_count) == (2, 1, 0)
    assert Current.objects.get(pk=empty.pk).total_count == 0

    apps = migrate([("django_veesing", "0008_recipient_rows_in_place")])
    Campaign = apps.get_model("django_veesing", "Campaign")
    assert Campaign.objects.values_list("total_count", "delivered_count").get(pk=counted.pk) == (5, 2)


def test_opt_outs_are_normalised_merged_or_reported(capsys):
    apps = migrate([("django_veesing", "0009_campaign_counts_in_slots")])
    OptOut = apps.get_model("django_veesing", "OptOut")
    OptOut.objects.create(phone="13800000001", source="reply")
    OptOut.objects.create(phone="１３８００００００01", source="admin")  # the same number, typed full-width
    OptOut.objects.create(phone="１３９００００００02", source="import")
    OptOut.objects.create(phone="+86 186-000", source="admin")  # cut by the old form's length
    OptOut.objects.create(phone="12345", source="admin")
    migrate([("django_veesing", "0010_opt_outs_checked")])
    from django_veesing.models import OptOut as Current

    assert dict(Current.objects.values_list("phone", "source")) == {
        "13800000001": "reply",
        "13900000002": "admin",
        "+86 186-000": "admin",  # kept: a refusal is never deleted, and listed to be fixed
        "12345": "admin",
    }
    report = capsys.readouterr().out
    assert "1 normalised to 11 digits, 1 merged with the same number; 2 not a mainland mobile number" in report
    assert "'+86 186-000'" in report and "'12345'" in report
