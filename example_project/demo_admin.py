"""Create (or reset) the demo's admin login and print it. For `make demo` only."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

USERNAME = os.environ.get("DEMO_ADMIN_USER", "admin")
PASSWORD = os.environ.get("DEMO_ADMIN_PASSWORD", "veesing-demo")

user, _created = get_user_model().objects.get_or_create(username=USERNAME)
user.is_staff = user.is_superuser = True
user.set_password(PASSWORD)
user.save()
print(f"Admin login for the demo: user {USERNAME!r}, password {PASSWORD!r}")

PHONE_USER = os.environ.get("DEMO_PHONE_USER", "13800138000")
get_user_model().objects.get_or_create(username=PHONE_USER)
print(f"Phone login for the demo: /demo/login/ as {PHONE_USER} (the code is read from the simulator's record)")

# A few messages from code, as a site's views would send them: the worker sends them, and
# the admin's Messages list shows their fate. The keys make a second `make demo` add none.
from django_veesing import send_message  # noqa: E402

for n, (phone, text) in enumerate(
    [
        ("13800138001", "【维信演示】您的订单已发货，快递单号SF1234567890"),
        ("13800138002", "【维信演示】您的订单已发货，快递单号SF1234567891"),
        ("13800138003", "【维信演示】您预约的服务将于明天上午9点开始"),
    ]
):
    send_message(phone, text, key=f"demo-message-{n}", metadata={"demo": n})
print("Three messages from code queued: see 维信短信 › 短信 in the admin.")

# A personalised campaign left as a draft for the operator to send: each number's text is
# filled with its own values (see docs/personalised.rst).
from django_veesing.models import Campaign  # noqa: E402

campaign, new = Campaign.objects.get_or_create(
    name="积分提醒（个性化演示）",
    defaults={"content": "【维信演示】{姓名}您好，您的积分{积分}将于月底清零", "kind": "notification"},
)
if new:
    campaign.add_recipients(
        [
            {"手机号": "13800138011", "姓名": "张三", "积分": 1200},
            {"手机号": "13800138012", "姓名": "李四", "积分": 80},
            {"手机号": "13800138013", "姓名": "王五", "积分": 560},
        ]
    )
print(f"A personalised draft campaign: 维信短信 › 群发任务 › {campaign.name} (send it from its page).")
