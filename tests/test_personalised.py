"""Personalised campaigns: ``{field}`` placeholders filled from each number's values."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_veesing.exceptions import ContentError, ValuesError
from django_veesing.imports.readers import UnreadableFile, read_file, read_pasted
from django_veesing.models import Batch, BatchState, Campaign, CampaignStatus, Recipient, RecipientStatus
from django_veesing.rules import fields
from django_veesing.sending.backlog import plan, resend_uncertain, retry_failed
from django_veesing.sending.sender import Sender

TEXT = "【某某商城】{姓名}您好，您的积分{积分}将于月底清零"


@pytest.fixture(autouse=True)
def noon(clock):
    return clock


pytestmark = pytest.mark.usefixtures("sending_path")  # plain batches beside them take both paths


@pytest.fixture
def sender(simulator, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 3}
    return Sender()


def personalised(rows, content=TEXT, kind="notification", schedule=True) -> Campaign:
    campaign = Campaign.objects.create(name="p", content=content, kind=kind)
    campaign.add_recipients(rows)
    if schedule:
        campaign.schedule()
    return campaign


def sent_texts(simulator) -> dict[str, str]:
    """phone → the text the simulator accepted for it (each number once)."""
    texts: dict[str, str] = {}
    for request in simulator.record.group_requests():
        for phone in simulator.record.tasks.get(request.task_id, []):
            assert phone not in texts, f"{phone} was sent twice"
            texts[phone] = request.fields["content"]
    return texts


# -- the rules ----------------------------------------------------------------------------


def test_placeholders_are_found_and_filled_once():
    assert fields.names("{姓名}您好{points}，{姓名}") == ["姓名", "points"]
    assert fields.render("{a}{b}", {"a": "{b}", "b": "1"}) == "{b}1"  # a value is never filled in again
    assert fields.render("{ }{a-b}{a}}", {"a": "1"}) == "{ }{a-b}1}"  # braces that name no field stay
    with pytest.raises(fields.FieldProblem, match="姓名"):
        fields.render("{姓名}", {"姓名": "  "})
    with pytest.raises(fields.FieldProblem, match="【】"):
        fields.render("{姓名}", {"姓名": "【假冒】"})
    with pytest.raises(fields.FieldProblem, match="line break"):
        fields.render("{姓名}", {"姓名": "a\nb"})


# -- importing values ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_heading_names_the_values_and_each_number_gets_its_text():
    data = "手机号,姓名,积分\n13800000001,张三,1200\n13800000002,李四,80\n".encode()
    campaign = personalised(read_file("list.csv", data), schedule=False)
    rows = {r.phone: r for r in Recipient.objects.filter(campaign=campaign).select_related("text")}
    assert rows["13800000001"].values == {"姓名": "张三", "积分": "1200"}
    assert rows["13800000001"].text.text == "【某某商城】张三您好，您的积分1200将于月底清零"
    assert rows["13800000002"].text.text == "【某某商城】李四您好，您的积分80将于月底清零"
    assert campaign.columns == ["姓名", "积分"]


@pytest.mark.django_db
def test_an_xlsx_sheet_and_a_tab_separated_txt_carry_values_too():
    import io

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机", "积分"])
    book.active.append(["王五", 13800000001, 1200])
    data = io.BytesIO()
    book.save(data)
    campaign = personalised(read_file("名单.xlsx", data.getvalue()), schedule=False)
    assert Recipient.objects.get(campaign=campaign).text.text == "【某某商城】王五您好，您的积分1200将于月底清零"
    txt = "手机号\t姓名\t积分\n13800000002\t赵六\t5\n".encode("gb18030")
    other = personalised(read_file("名单.txt", txt), schedule=False)
    assert Recipient.objects.get(campaign=other).values == {"姓名": "赵六", "积分": "5"}


@pytest.mark.django_db
def test_code_passes_dicts_or_pairs():
    campaign = personalised(
        [{"phone": "13800000001", "姓名": "张三", "积分": 5}, ("13800000002", {"姓名": "李四", "积分": "6"})],
        schedule=False,
    )
    texts = dict(Recipient.objects.filter(campaign=campaign).values_list("phone", "text__text"))
    assert texts == {
        "13800000001": "【某某商城】张三您好，您的积分5将于月底清零",
        "13800000002": "【某某商城】李四您好，您的积分6将于月底清零",
    }


@pytest.mark.django_db
def test_values_keep_every_character_the_database_copy_escapes():
    odd = 'a\\N\tb"c\\d{积分}'  # a backslash, COPY's null marker, a tab, a quote, braces
    campaign = personalised([("13800000001", {"姓名": odd, "积分": "7"})], schedule=False)
    row = Recipient.objects.select_related("text").get(campaign=campaign)
    assert row.values == {"姓名": odd, "积分": "7"}
    assert row.text.text == f"【某某商城】{odd}您好，您的积分7将于月底清零"


@pytest.mark.django_db
def test_identical_texts_are_stored_once():
    rows = [{"phone": f"1380000000{i}", "姓名": "会员", "积分": "100"} for i in range(5)]
    campaign = personalised(rows, schedule=False)
    assert campaign.texts.count() == 1
    assert Recipient.objects.filter(campaign=campaign, text=campaign.texts.get()).count() == 5


@pytest.mark.django_db
def test_a_row_that_breaks_a_rule_refuses_the_whole_file_naming_its_line():
    data = "手机号,姓名,积分\n13800000001,张三,1\n13800000002,【李四】,2\n13800000003,,3\n13800000004,王五,😀\n"
    campaign = Campaign.objects.create(name="p", content=TEXT, kind="notification")
    with pytest.raises(ValuesError) as refused:
        campaign.add_recipients(read_pasted(data))
    assert refused.value.count == 3
    assert [(row.line, row.entry) for row in refused.value.rows] == [
        (3, "13800000002"),
        (4, "13800000003"),
        (5, "13800000004"),
    ]
    assert "【】" in refused.value.rows[0].reason
    assert "{姓名}" in refused.value.rows[1].reason
    assert "😀" in refused.value.rows[2].reason
    assert "line 3" in str(refused.value)
    campaign.refresh_from_db()
    assert (campaign.total_count, Recipient.objects.filter(campaign=campaign).count(), campaign.texts.count()) == (
        0,
        0,
        0,
    )


@pytest.mark.django_db
def test_a_placeholder_no_column_provides_is_named():
    campaign = Campaign.objects.create(name="p", content=TEXT, kind="notification")
    with pytest.raises(ValuesError, match=r"\{积分\}.*姓名"):
        campaign.add_recipients(read_pasted("手机号,姓名\n13800000001,张三\n"))
    with pytest.raises(ValuesError, match="first line names the columns"):
        campaign.add_recipients(["13800000001"])
    assert not Recipient.objects.filter(campaign=campaign).exists()


def test_a_heading_with_two_columns_of_one_name_or_no_phone_column_is_refused():
    with pytest.raises(UnreadableFile, match="姓名"):
        list(read_pasted("手机号,姓名,姓名\n13800000001,a,b\n"))
    with pytest.raises(UnreadableFile, match="phone column"):
        list(read_pasted("名字,城市\n张三,北京\n"))


@pytest.mark.django_db
def test_a_marketing_text_needs_its_opt_out_phrase_in_every_rendered_text():
    campaign = Campaign.objects.create(name="p", content="【某某商城】{姓名}您好{尾}", kind="marketing")
    with pytest.raises(ValuesError, match="opt out"):
        campaign.add_recipients(
            [("13800000001", {"姓名": "张三", "尾": "，回T退订"}), ("13800000002", {"姓名": "李四", "尾": "。"})]
        )


@pytest.mark.django_db
def test_a_text_changed_after_loading_is_rendered_again_before_scheduling():
    campaign = personalised([("13800000001", {"姓名": "张三", "积分": "9"})], schedule=False)
    campaign.content = "【某某商城】{姓名}，积分{积分}即将清零"
    campaign.save()
    campaign.schedule()
    assert Recipient.objects.get(campaign=campaign).text.text == "【某某商城】张三，积分9即将清零"
    assert campaign.texts.count() == 1  # the old text is gone

    other = personalised([("13800000001", {"姓名": "张三", "积分": "9"})], schedule=False)
    other.content = "【某某商城】{姓名}，{等级}会员"
    other.save()
    with pytest.raises(ContentError, match="等级"):
        other.schedule()
    assert Recipient.objects.get(campaign=other).text.text == "【某某商城】张三您好，您的积分9将于月底清零"


@pytest.mark.django_db
def test_the_plan_bills_each_text_by_its_own_length():
    long_name = "长" * 60  # this number's text takes two messages
    campaign = personalised(
        [("13800000001", {"姓名": "张三", "积分": "1"}), ("13800000002", {"姓名": long_name, "积分": "1"})],
        schedule=False,
    )
    figures = plan(campaign)
    assert (figures["numbers"], figures["messages"], figures["segments"]) == (2, 3, 2)
    assert campaign.billed_messages == 3


# -- sending ------------------------------------------------------------------------------


def values_for(i: int) -> dict[str, str]:
    """Every fifth number shares one text; the rest have their own."""
    return {"姓名": "会员" if i % 5 == 0 else f"客户{i}", "积分": "100"}


@pytest.mark.django_db(transaction=True)
def test_numbers_with_one_text_share_calls_and_each_gets_its_own_text(simulator, sender):
    rows = [(f"138000000{i:02d}", values_for(i)) for i in range(20)]
    campaign = personalised(rows)
    report = sender.send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    texts = sent_texts(simulator)
    assert texts == {phone: f"【某某商城】{v['姓名']}您好，您的积分100将于月底清零" for phone, v in rows}
    # 4 numbers share a text: two calls of up to 3; 16 numbers, one call each
    sizes = Counter(r.numbers for r in simulator.record.group_requests())
    assert sizes == Counter({1: 17, 3: 1})
    assert report.batches == 18
    statuses = Counter(Recipient.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == {RecipientStatus.SUBMITTED: 20}
    for batch in Batch.objects.filter(campaign=campaign):
        rows_of_batch = Recipient.objects.filter(batch=batch)
        assert set(rows_of_batch.values_list("task_id", flat=True)) == {batch.task_id}
        assert set(rows_of_batch.values_list("text_id", flat=True)) == {batch.text_id}


@pytest.mark.django_db(transaction=True)
def test_a_text_batch_is_settled_in_one_statement_and_its_text_read_with_its_claim(simulator, sender, sending_path):
    """On PostgreSQL a personalised batch settles as a plain one does, in one statement
    (its numbers found on the index of its text's numbers), and the call's text comes
    with the claim; numbers of other texts inside its id range keep their own batch."""
    rows = [(f"138000001{i:02d}", values_for(i)) for i in range(8)]
    campaign = personalised(rows)
    with CaptureQueriesContext(connection) as queries:
        report = sender.send(campaign)
    assert report.batches == 7  # numbers 0 and 5 share a text (values_for), the others have their own
    sql = [query["sql"] for query in queries.captured_queries]
    settling = [q for q in sql if q.startswith('UPDATE "django_veesing_recipient" SET "status"')]
    if sending_path == "statement":
        assert len([q for q in sql if q.startswith("EXECUTE veesing_settle_text_batch")]) == report.batches
        assert settling == []
    else:
        assert len(settling) == report.batches
    text_by_id = 'FROM "django_veesing_campaigntext" WHERE "django_veesing_campaigntext"."id" ='
    assert not [q for q in sql if text_by_id in q]  # no look-up of a batch's text of its own
    for batch in Batch.objects.filter(campaign=campaign):
        numbers = Recipient.objects.filter(batch=batch)
        assert set(numbers.values_list("status", "task_id", "text_id")) == {
            (RecipientStatus.SUBMITTED, batch.task_id, batch.text_id)
        }
    assert sent_texts(simulator) == {phone: TEXT.format(**v) for phone, v in rows}


@pytest.mark.django_db(transaction=True)
def test_an_uncertain_personalised_batch_is_resent_only_on_word_with_its_own_text(simulator, sender):
    rows = [(f"138000000{i:02d}", values_for(i)) for i in range(10)]
    campaign = personalised(rows)
    simulator.configure(per_minute_limit=False)
    simulator.inject("http_error", next_n=1, path="/group")
    assert sender.send(campaign).uncertain == 1
    uncertain = Batch.objects.get(campaign=campaign, state=BatchState.UNCERTAIN)
    first = dict(Recipient.objects.filter(batch=uncertain).values_list("phone", "text__text"))
    sender.send(campaign)  # the rest go out; the uncertain batch is never resent by itself
    assert simulator.record.sent_more_than_once() == {}
    assert resend_uncertain(campaign) == len(first)
    simulator.record.clear()
    sender.send(campaign)
    again = sent_texts(simulator)
    assert again == first


@pytest.mark.django_db(transaction=True)
def test_failed_numbers_of_several_texts_are_retried_one_text_a_batch(simulator, sender):
    rows = [(f"138000000{i:02d}", values_for(i)) for i in range(6)]
    campaign = personalised(rows)
    simulator.configure(per_minute_limit=False)
    sender.send(campaign)
    Recipient.objects.filter(campaign=campaign).update(status=RecipientStatus.FAILED)
    campaign.recount()
    assert retry_failed(campaign) == 6
    for batch in Batch.objects.filter(campaign=campaign, state=BatchState.QUEUED):
        assert set(Recipient.objects.filter(batch=batch).values_list("text_id", flat=True)) == {batch.text_id}
    simulator.record.clear()
    sender.send(campaign)
    assert sent_texts(simulator) == {
        phone: f"【某某商城】{v['姓名']}您好，您的积分100将于月底清零" for phone, v in rows
    }
