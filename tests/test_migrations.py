"""The app's migrations: the development versions' squashed before 1.0, then each change since."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db

SQUASHED = ("django_veesing", "0001_squashed_0013_verification_codes")
DEVELOPMENT = [
    "0001_initial",
    "0002_imports_heartbeats",
    "0003_claim_by_range",
    "0004_batch_range_index",
    "0005_app_clock",
    "0006_recipient_rows_written",
    "0007_recipient_rows_rewritten_in_place",
    "0008_recipient_rows_in_place",
    "0009_campaign_counts_in_slots",
    "0010_opt_outs_checked",
    "0011_trial_sends",
    "0012_messages_from_code",
    "0013_verification_codes",
]


SINCE = [
    ("django_veesing", "0014_personalised_texts"),
    ("django_veesing", "0015_text_links_unchecked"),
    ("django_veesing", "0016_text_links_deleted_with_campaign"),
    ("django_veesing", "0017_batch_latest_index"),
    ("django_veesing", "0018_receipt_arrivals"),
    ("django_veesing", "0019_failure_counts"),
]


def test_the_app_has_the_squashed_migration_then_the_changes_since():
    executor = MigrationExecutor(connection)
    ours = executor.loader.graph.forwards_plan(SINCE[-1])
    assert [key for key in ours if key[0] == "django_veesing"] == [SQUASHED, *SINCE]
    assert executor.loader.graph.leaf_nodes("django_veesing") == [SINCE[-1]]


def test_a_database_that_applied_the_development_migrations_is_up_to_date():
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied(*SQUASHED)
    for name in DEVELOPMENT:
        recorder.record_applied("django_veesing", name)
    executor = MigrationExecutor(connection)
    assert SQUASHED in executor.loader.applied_migrations
    assert executor.migration_plan([SINCE[-1]]) == []  # nothing to run: the later ones are applied here too
