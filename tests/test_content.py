import pytest

from django_veesing.rules.content import check, with_signature

OPT_OUT = ["回T退订", "回TD退订", "拒收请回复R"]


def codes(text, marketing=False, **kw):
    return [p.code for p in check(text, marketing=marketing, opt_out_phrases=OPT_OUT, **kw).problems]


def test_good_texts():
    assert codes("【维信】您的验证码是1234") == []
    assert codes("您的验证码是1234【维信】") == []
    assert codes("【维信科技】会员日八折，回T退订", marketing=True) == []


@pytest.mark.parametrize(
    "text,code",
    [
        ("", "empty"),
        ("您的验证码是1234", "no_signature"),
        ("【维】您好", "signature_length"),
        ("【一二三四五六七八九十一】您好", "signature_length"),
        ("【维信】您好【重要】", "brackets"),
        ("【维信】您好★", "symbols"),
        ("【维信】您好※", "symbols"),
        ("【维信】您好😀", "symbols"),
        ("【维信】" + "字" * 500, "too_long"),
    ],
)
def test_each_rule(text, code):
    assert code in codes(text)


def test_marketing_needs_an_opt_out_phrase():
    assert codes("【维信】会员日八折", marketing=True) == ["no_opt_out"]
    assert codes("【维信】会员日八折", marketing=False) == []
    assert codes("【维信】会员日八折，拒收请回复R", marketing=True) == []


def test_messages_are_translated():
    from django.utils import translation

    with translation.override("zh-hans"):
        (problem,) = check("【维信】会员日八折", marketing=True, opt_out_phrases=OPT_OUT).problems
    assert "退订" in problem.message and "marketing" not in problem.message


def test_default_signature_is_added_when_missing():
    assert with_signature("您好", "【维信】") == "【维信】您好"
    assert with_signature("【别的】您好", "【维信】") == "【别的】您好"
    report = check("您好", marketing=False, default_signature="【维信】")
    assert report.ok and report.text == "【维信】您好" and report.length == 6


def test_length_and_segments():
    report = check("【维信】" + "字" * 66, marketing=False)
    assert (report.length, report.segments) == (70, 1)
    report = check("【维信】" + "字" * 67, marketing=False)
    assert (report.length, report.segments) == (71, 2)
