"""What sending a campaign would do (``sending.backlog.plan``): the figures the campaign
page, the confirmation page and ``veesing_send --dry-run`` show."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_veesing.admin.screens import remove_numbers
from django_veesing.models import Campaign, OptOut, Recipient
from django_veesing.sending import text_totals
from django_veesing.sending.backlog import plan, sample_texts
from django_veesing.sending.sender import Sender

from .conftest import PERSONAL_TEXT, mobiles, personal_rows


def recipient_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_veesing_recipient" in q["sql"]]


def test_a_campaign_not_yet_sent_is_planned_from_its_counts(make_campaign):
    campaign = make_campaign(mobiles(5), schedule=False)
    with CaptureQueriesContext(connection) as queries:
        figures = plan(campaign)
    assert (figures["numbers"], figures["batches"], figures["opted_out"]) == (5, 1, 0)
    assert figures["messages"] == 5 * campaign.segments
    assert recipient_queries(queries) == []  # a million numbers are not counted again


def test_a_marketing_campaign_not_yet_sent_leaves_out_its_opted_out_numbers(make_campaign):
    OptOut.objects.create(phone="13800000001")
    OptOut.objects.create(phone="13900000000")  # not among the campaign's
    campaign = make_campaign(mobiles(5), kind="marketing", schedule=False)
    with CaptureQueriesContext(connection) as queries:
        figures = plan(campaign)
    assert (figures["numbers"], figures["opted_out"], figures["messages"]) == (4, 1, 4 * campaign.segments)
    assert len(recipient_queries(queries)) == 1  # the opted-out ones, found by their numbers


def test_a_personalised_campaign_not_yet_sent_leaves_out_its_opted_out_numbers(make_campaign):
    OptOut.objects.create(phone="13800000000")
    campaign = make_campaign([], kind="marketing", content=PERSONAL_TEXT + "，回T退订", schedule=False)
    campaign.add_recipients(personal_rows(mobiles(5), names=2))  # 客户0 ×3, 客户1 ×2
    figures = plan(campaign)
    assert (figures["numbers"], figures["opted_out"], figures["texts"], figures["messages"]) == (4, 1, 2, 4)


def test_once_sending_began_the_plan_counts_the_numbers_still_waiting(make_campaign, settings, closed_port):
    campaign = make_campaign(mobiles(10))
    settings.VEESING = {**settings.VEESING, "API_URL": f"http://127.0.0.1:{closed_port}", "CHECK_BALANCE": False}
    Sender().send(campaign)  # nothing reached the provider: the claimed numbers are queued again
    campaign.refresh_from_db()
    assert plan(campaign)["numbers"] == 10


def test_a_sent_campaign_has_nothing_left_to_send(clock, simulator, make_campaign):
    campaign = make_campaign(mobiles(3), kind="marketing")
    OptOut.objects.create(phone="13800000001")
    Sender().send(campaign)
    campaign.refresh_from_db()
    assert (campaign.submitted_count, campaign.skipped_count) == (2, 1)
    assert plan(campaign)["numbers"] == 0


# -- a personalised campaign's totals, kept while its numbers stay ----------------------

LONG_NAME = "长" * 60  # a text of two messages


def personal_draft(rows) -> Campaign:
    campaign = Campaign.objects.create(name="p", content=PERSONAL_TEXT + "，回T退订", kind="marketing")
    campaign.add_recipients(rows)
    return Campaign.objects.get(pk=campaign.pk)


def text_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_veesing_campaigntext" in q["sql"]]


def billed(campaign: Campaign) -> tuple[int, int, int]:
    figures = plan(Campaign.objects.get(pk=campaign.pk))  # with its counts as committed
    return figures["numbers"], figures["messages"], figures["segments"]


def test_a_personalised_draft_adds_up_its_texts_once_while_its_numbers_stay(db):
    campaign = personal_draft(personal_rows(mobiles(6), names=3))
    first = plan(campaign)
    with CaptureQueriesContext(connection) as queries:
        again = plan(campaign)
    assert again == first and first["numbers"] == 6
    assert first["longest_text"] == "【维信测试】客户0您好，您的订单已发货，回T退订"
    assert text_queries(queries) == []  # the totals and the longest text, kept


def test_the_confirmation_figures_leave_out_the_opted_out_numbers_texts(db):
    rows = [("13800000001", {"姓名": "张三"}), ("13800000002", {"姓名": LONG_NAME}), ("13800000003", {"姓名": "王五"})]
    campaign = personal_draft(rows)
    OptOut.objects.create(phone="13800000002")
    figures = plan(campaign)
    assert LONG_NAME not in figures["longest_text"]
    assert len(figures["longest_text"]) == figures["longest"]
    assert [phone for phone, _text in sample_texts(campaign, 3)] == ["13800000001", "13800000003"]


def test_kept_totals_follow_numbers_removed_and_added(db):
    campaign = personal_draft([("13800000001", {"姓名": "张三"}), ("13800000002", {"姓名": "李四"})])
    assert billed(campaign) == (2, 2, 1)
    remove_numbers(campaign, "13800000002")
    campaign.add_recipients([("13800000003", {"姓名": LONG_NAME})])  # the same counts again
    assert billed(campaign) == (2, 3, 2)
    assert LONG_NAME in plan(Campaign.objects.get(pk=campaign.pk))["longest_text"]


def test_kept_totals_follow_the_opt_outs_an_operator_corrects(db):
    rows = [("13800000001", {"姓名": "张三"}), ("13800000002", {"姓名": LONG_NAME}), ("13800000003", {"姓名": "王五"})]
    campaign = personal_draft(rows)
    opt_out = OptOut.objects.create(phone="13800000001")
    assert billed(campaign) == (2, 3, 2)
    opt_out.phone = "13800000002"  # as many opted out, another of them
    opt_out.save()
    assert billed(campaign) == (2, 2, 1)
    opt_out.delete()
    assert billed(campaign) == (3, 4, 2)


def test_kept_totals_follow_a_text_rendered_again(db):
    campaign = personal_draft([("13800000001", {"姓名": "张三"})])
    assert billed(campaign) == (1, 1, 1)
    campaign.content = PERSONAL_TEXT.replace("{姓名}", "{姓名}" + "长" * 60) + "，回T退订"
    campaign.save()
    assert campaign.prepare_texts() == []
    assert billed(campaign) == (1, 2, 2)


# -- the opted out taken off the kept totals ----------------------------------------------


def from_scratch(campaign: Campaign, batch_size: int) -> dict:
    """The plan's figures added up from every number it would send, nothing kept."""
    sendable = Recipient.objects.filter(campaign_id=campaign.pk, status="pending").exclude(
        phone__in=OptOut.objects.values("phone")
    )
    return text_totals.add_up(sendable, batch_size).figures()


def planned(campaign: Campaign) -> dict:
    figures = plan(Campaign.objects.get(pk=campaign.pk))
    del figures["opted_out"]
    return figures


@pytest.fixture
def adding_up(monkeypatch):
    """How many times a campaign's numbers were added up."""
    calls = []
    real = text_totals.add_up

    def counted(rows, batch_size):
        calls.append(batch_size)
        return real(rows, batch_size)

    monkeypatch.setattr(text_totals, "add_up", counted)
    return calls


def test_an_opt_out_is_taken_off_the_kept_totals_from_its_text_alone(db, settings, adding_up):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    rows = [(phone, {"姓名": "会员"}) for phone in mobiles(5)]  # one text: three calls
    rows += [("13900000001", {"姓名": LONG_NAME}), ("13900000002", {"姓名": "张三"})]
    campaign = personal_draft(rows)
    assert planned(campaign) == from_scratch(campaign, 2) and planned(campaign)["batches"] == 5
    assert len(adding_up) == 2  # kept, and from scratch here
    OptOut.objects.create(phone="13800000000")  # four left with the shared text: two calls
    OptOut.objects.create(phone="13900000002")  # 张三's text goes
    figures = planned(campaign)
    assert len(adding_up) == 2  # taken off what was kept
    assert figures == from_scratch(campaign, 2)
    assert (figures["numbers"], figures["batches"], figures["texts"], figures["messages"]) == (5, 3, 2, 6)
    with CaptureQueriesContext(connection) as queries:
        plan(Campaign.objects.get(pk=campaign.pk))
    totals = [sql for sql in recipient_queries(queries) if "SUM(" in sql.upper()]
    assert totals == []  # no adding up over every number


def test_the_longest_texts_only_number_opted_out_adds_up_again_without_it(db, adding_up):
    rows = [("13800000001", {"姓名": "张三"}), ("13800000002", {"姓名": LONG_NAME}), ("13800000003", {"姓名": "王五"})]
    campaign = personal_draft(rows)
    assert LONG_NAME in planned(campaign)["longest_text"]
    OptOut.objects.create(phone="13800000002")
    figures = planned(campaign)
    assert len(adding_up) == 2  # kept; then again without it
    assert figures == from_scratch(campaign, 1000)
    assert LONG_NAME not in figures["longest_text"] and figures["segments"] == 1


@pytest.mark.parametrize("seed", range(4))
def test_kept_totals_less_the_opted_out_equal_the_totals_added_up_afresh(db, settings, seed):
    """Random lists (shared texts, long ones), random opt-outs added and taken back."""
    rng = random.Random(seed)
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 3}
    names = ["会员", "客户", LONG_NAME, "长" * 30, "张三"]
    phones = mobiles(40)
    campaign = personal_draft([(phone, {"姓名": rng.choice(names) + str(rng.randrange(3))}) for phone in phones])
    for _ in range(12):
        if rng.random() < 0.7 or not OptOut.objects.exists():
            OptOut.objects.get_or_create(phone=rng.choice(phones))
        else:
            OptOut.objects.filter(pk=rng.choice(list(OptOut.objects.values_list("pk", flat=True)))).delete()
        assert planned(campaign) == from_scratch(campaign, 3)
