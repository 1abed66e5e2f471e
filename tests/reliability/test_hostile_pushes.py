"""Hostile and malformed pushes: never a 500, a reason for every refusal, nothing written."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_veesing.models import Receipt, RejectedPush, Reply

pytestmark = pytest.mark.django_db
TOKEN = "test-callback-token-0123456789"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
FIELDS = ["mobile", "taskid", "status", "code", "receivetime", "content"]
GOOD_RECEIPT = {
    "mobile": "13800138000",
    "taskid": "T1",
    "status": "1",
    "code": "DELIVRD",
    "receivetime": "2026-11-26 12:00:00",
}


def url():
    return reverse("django_veesing:callback", args=[TOKEN])


def check(response, before):
    """The rules every answer keeps."""
    assert response.status_code in (200, 400, 413), response.content[:300]
    if response.status_code != 200:
        assert response.json()["errors"], "a refusal says why"
        assert (Receipt.objects.count(), Reply.objects.count()) == before, "nothing written on a refusal"
        assert RejectedPush.objects.exists(), "the refused push is kept"


values = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789", min_size=0, max_size=15),
    st.sampled_from(
        ["1", "0", "2", "-1", "", " ", "null", "2026-11-26 12:00:00", "2026/1/2 3:04:05", "9999-99-99 99:99:99"]
    ),
    st.sampled_from(["' OR 1=1; --", "<script>alert(1)</script>", '=HYPERLINK("x")', "退订", "\u202e", "𝕋"]),
)
events = st.dictionaries(st.sampled_from([*FIELDS, "extra", "appKey"]), values, max_size=8)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(event=events)
def test_random_form_pushes(event):
    before = (Receipt.objects.count(), Reply.objects.count())
    response = Client().post(url(), urlencode(event), content_type=FORM)
    check(response, before)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    body=st.one_of(
        st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
        st.lists(json_values, max_size=5),
        json_values,
    )
)
def test_random_json_pushes(body):
    before = (Receipt.objects.count(), Reply.objects.count())
    response = Client().post(url(), json.dumps(body), content_type="application/json")
    check(response, before)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    raw=st.binary(max_size=300),
    content_type=st.sampled_from(
        [FORM, "application/json", "text/plain", "multipart/form-data; boundary=x", "", "application/xml"]
    ),
)
def test_random_bytes(raw, content_type):
    before = (Receipt.objects.count(), Reply.objects.count())
    response = Client().post(url(), raw, content_type=content_type)
    check(response, before)


CORPUS = {
    "missing fields": urlencode({"mobile": "13800138000"}),
    "wrong types in JSON": json.dumps({**GOOD_RECEIPT, "status": [1], "mobile": {"a": 1}}),
    "huge value": urlencode({**GOOD_RECEIPT, "code": "X" * 60000}),
    "invalid UTF-8": b"mobile=\xff\xfe\xfd&status=1",
    "NUL in a field": urlencode({**GOOD_RECEIPT, "taskid": "T\x00"}),
    "NUL in an extra field": json.dumps({**GOOD_RECEIPT, "x": "\u0000"}),
    "lone surrogate": '{"mobile": "13800138000", "taskid": "\\ud800", "status": "1", "receivetime": "2026-11-26"}',
    "script in a reply": urlencode(
        {"mobile": "13800138000", "taskid": "T", "content": "<script>alert(1)</script>" * 100, "receivetime": "x"}
    ),
    "JSON where a form was expected": json.dumps(GOOD_RECEIPT | {"status": "9"}),
    "a list of 1001 events": json.dumps([GOOD_RECEIPT] * 1001),
    "empty body": b"",
    "multipart": b'--x\r\nContent-Disposition: form-data; name="mobile"\r\n\r\n1\r\n--x--',
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_of_malformed_bodies(name, figures):
    body = CORPUS[name]
    content_type = "multipart/form-data; boundary=x" if name == "multipart" else FORM
    before = (Receipt.objects.count(), Reply.objects.count())
    response = Client().post(url(), body, content_type=content_type)
    check(response, before)
    assert response.status_code in (400, 413)
    figures(name, f"{response.status_code}: {next(iter(response.json()['errors']))}")


def test_sql_looking_text_is_only_text(figures):
    sql = "'; DROP TABLE django_veesing_receipt; --"
    response = Client().post(url(), urlencode({**GOOD_RECEIPT, "taskid": sql}), content_type=FORM)
    assert response.status_code == 200
    assert Receipt.objects.get().task_id == sql  # stored as text; the table is still there
    figures("SQL-looking task id", "200, stored as plain text")


def test_ten_megabyte_body(figures):
    response = Client().post(url(), b"x=" + b"a" * (10 * 1024 * 1024), content_type=FORM)
    assert response.status_code == 413
    rejected = RejectedPush.objects.get()
    assert rejected.truncated and len(rejected.body) <= 4096
    figures("10 MB body", "413, kept truncated")


def test_script_looking_reply_is_stored_as_text_and_escaped_in_the_admin(admin_client):
    content = "<script>alert(1)</script>"
    event = {"mobile": "13800138000", "taskid": "T", "content": content, "receivetime": "2026-11-26 12:00:00"}
    assert Client().post(url(), urlencode(event), content_type=FORM).status_code == 200
    assert Reply.objects.get().content == content
    page = admin_client.get(reverse("admin:django_veesing_reply_changelist")).content.decode()
    assert content not in page and "&lt;script&gt;" in page
