"""Trial sends against the simulator: the campaign's text to an operator's own numbers,
recorded before the call and settled after it, never counted with the campaign."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from django_veesing.checks import check_veesing_settings
from django_veesing.exceptions import CampaignStateError, ContentError
from django_veesing.models import Campaign, Receipt, TrialSend
from django_veesing.sending.trials import MAX_TRIAL_NUMBERS, send_trial

from .conftest import mobiles
from .test_callback import receipt

pytestmark = pytest.mark.django_db

MINE = ["+86 186-0000-1234", "13900139000"]


@pytest.fixture
def campaign(make_campaign):
    return make_campaign(mobiles(5), kind="marketing", schedule=False)


def test_a_trial_goes_to_the_given_numbers_and_is_never_the_campaigns(simulator, campaign, client):
    before = campaign.counts()
    trial = send_trial(campaign, MINE, requested_by="boss")
    assert (trial.state, trial.phones, trial.requested_by) == ("submitted", "18600001234,13900139000", "boss")
    assert trial.task_id and trial.sent_at and trial.text == campaign.text
    (call,) = [request for request in simulator.record.requests if request.path.endswith("/group")]
    assert call.fields["content"] == campaign.text and call.task_id == trial.task_id
    assert set(simulator.record.accepted) == {"18600001234", "13900139000"}
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.counts() == before and campaign.recipients.count() == 5
    assert not campaign.recipients.filter(phone="18600001234").exists()
    from urllib.parse import urlencode

    from .test_callback import FORM, url

    client.post(url(), urlencode(receipt("18600001234", task=trial.task_id)), content_type=FORM)
    assert Receipt.objects.get(task_id=trial.task_id).recipient is None  # stored, counted nowhere
    assert Campaign.objects.get(pk=campaign.pk).counts() == before


@pytest.mark.parametrize(
    "numbers,said",
    [(["12345"], "has 5 digits"), ([], "at least one"), (mobiles(MAX_TRIAL_NUMBERS + 1), "at most 10")],
)
def test_numbers_that_cannot_take_a_trial_are_refused_before_any_call(simulator, campaign, numbers, said):
    with pytest.raises(CampaignStateError, match=said):
        send_trial(campaign, numbers)
    assert not TrialSend.objects.exists() and not simulator.record.requests


def test_a_text_that_breaks_the_rules_is_not_tried(simulator, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(content="【维信测试】会员日八折")  # marketing, no opt-out
    with pytest.raises(ContentError):
        send_trial(Campaign.objects.get(pk=campaign.pk), MINE)
    assert not TrialSend.objects.exists()


def test_a_refusal_is_recorded_with_the_providers_message(simulator, campaign):
    simulator.inject("raw", next_n=1, path="/group", body={"returnStatus": "0", "message": "余额不足"})
    trial = send_trial(campaign, MINE)
    assert trial.state == "failed" and "余额" in trial.message
    assert TrialSend.objects.get().state == "failed"


def test_a_lost_answer_leaves_the_trial_uncertain(simulator, campaign, settings):
    settings.VEESING = {**settings.VEESING, "TIMEOUT": 0.5}
    simulator.inject("timeout", next_n=1, path="/group")
    trial = send_trial(campaign, MINE)
    assert trial.state == "uncertain" and TrialSend.objects.get().state == "uncertain"


def test_an_unreachable_provider_fails_the_trial(settings, campaign, closed_port):
    settings.VEESING = {**settings.VEESING, "API_URL": f"http://127.0.0.1:{closed_port}"}
    assert send_trial(campaign, MINE).state == "failed"  # nothing reached the provider


def test_the_campaign_page_sends_a_trial_for_a_sender_only(simulator, campaign):
    address = reverse("admin:django_veesing_campaign_trial", args=[campaign.pk])
    boss = Client()
    boss.force_login(User.objects.create_superuser("boss", password="pw"))
    page = boss.get(reverse("admin:django_veesing_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="veesing-trial-send"' in page
    answer = boss.post(address, {"phones": "13900139000"}, follow=True).content.decode()
    assert "Trial send to 13900139000 handed to the provider." in answer
    assert 'id="veesing-trials"' in answer and TrialSend.objects.get().requested_by == "boss"
    refused = boss.post(address, {"phones": "12345"}, follow=True).content.decode()
    assert "No trial send:" in refused and TrialSend.objects.count() == 1

    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    looker = Client()
    looker.force_login(viewer)
    page = looker.get(reverse("admin:django_veesing_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="veesing-trial-send"' not in page
    assert looker.post(address, {"phones": "13900139000"}).status_code == 403
    assert TrialSend.objects.count() == 1


@pytest.mark.parametrize("numbers", [["12345"], "13800138000", mobiles(11)])
def test_trial_numbers_that_are_not_a_short_list_of_mobiles_are_refused(settings, numbers):
    settings.VEESING = {**settings.VEESING, "TRIAL_NUMBERS": numbers}
    assert [message.id for message in check_veesing_settings()] == ["veesing.E014"]
