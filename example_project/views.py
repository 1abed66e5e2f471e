"""The demo's phone login: ask for a code, read it from the simulator's record (the demo
has no phone), log in with it. For ``make demo`` only: a real site shows no record."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from django_veesing import verification
from django_veesing.exceptions import VeesingError

#: Where ``make demo`` has the simulator write every request and push (JSON lines).
RECORD = Path(os.environ.get("DEMO_SIMULATOR_RECORD", Path(__file__).resolve().parent.parent / "var" / "sim.jsonl"))


def received(phone: str) -> str | None:
    """The last verification text the simulator sent to ``phone``, from its record."""
    if not RECORD.exists():
        return None
    found = None
    for line in RECORD.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("type") == "code" and entry.get("phone") == phone:
            found = entry["text"]
    return found


def phone_login(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"phone": request.POST.get("phone", "13800138000")}
    if request.method == "POST" and "send" in request.POST:
        try:
            row = verification.start(context["phone"], client_ip=request.META.get("REMOTE_ADDR"))
        except VeesingError as error:
            context["error"] = str(error)
        else:
            context["sent"] = row
            context["received"] = received(row.phone)
    elif request.method == "POST":
        user = authenticate(request, phone=context["phone"], code=request.POST.get("code", ""))
        if user is None:
            context["error"] = _("The code is wrong, used or expired.")
        else:
            login(request, user, backend="django_veesing.verification.backends.PhoneCodeBackend")
    return render(request, "demo/phone_login.html", context)
