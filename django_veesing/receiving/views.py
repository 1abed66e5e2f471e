"""The callback view: authenticate → read → validate → store → 200 ``ok``.

Unknown token: 404 and nothing written. Malformed push: 400 with a JSON body naming each
bad field, and the push kept as a ``RejectedPush``. Too large: 413. A bug of ours raises,
so Django answers 500 and a provider that retries will try again.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..conf import veesing_settings
from ..models import RejectedPush
from ..rules.addresses import caller_address, in_networks
from .parsing import PushRejected
from .pushes import take_body

KEPT_BODY = 4096  # characters of a rejected body that are kept


def token_is_valid(token: str) -> bool:
    """Constant-time comparison with every configured token (no early exit)."""
    matches = [constant_time_compare(token, known) for known in veesing_settings.CALLBACK_TOKENS]
    return any(matches)


def client_address(request: HttpRequest) -> str:
    """The caller's address; X-Forwarded-For only as far as CALLBACK_PROXY_COUNT says."""
    return caller_address(request.META, veesing_settings.CALLBACK_PROXY_COUNT)


class CallbackView(View):
    """Receipts and replies pushed by the provider. ``kind`` fixes the kind of push.

    A plain Django view: the provider neither authenticates nor negotiates content, so
    DRF's request wrapping would be work for nothing on every push; the events are
    validated with the DRF serializers of ``parsing``.
    """

    kind: str | None = None
    http_method_names = ["post"]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Exempt once here rather than with method_decorator on dispatch, which builds
        # two wrappers on every push.
        return csrf_exempt(super().as_view(**initkwargs))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        if not token_is_valid(token):
            raise Http404
        remote = client_address(request)
        allowed = veesing_settings.CALLBACK_ALLOWED_IPS
        if allowed and not in_networks(remote, allowed):
            raise Http404
        limit = veesing_settings.CALLBACK_MAX_BODY
        raw = request.read(limit + 1)
        content_type = request.META.get("CONTENT_TYPE", "")
        if len(raw) > limit or _declared_length(request) > limit:
            errors = {"body": [_("The body is larger than %(limit)d bytes.") % {"limit": limit}]}
            return self._reject(errors, raw, content_type, remote, status=413)
        try:
            take_body(raw, content_type, self.kind, request.META.get("QUERY_STRING", ""))
        except PushRejected as rejected:
            return self._reject(rejected.errors, raw, content_type, remote)
        return HttpResponse("ok", content_type="text/plain; charset=utf-8")

    def _reject(
        self, errors: dict[str, Any], raw: bytes, content_type: str, remote: str, status: int = 400
    ) -> JsonResponse:
        text = raw.decode("utf-8", errors="replace").replace("\x00", "\\x00")
        RejectedPush.objects.create(
            reason=_flatten(errors),
            body=text[:KEPT_BODY],
            truncated=len(text) > KEPT_BODY or status == 413,
            content_type=content_type[:200],
            kind=self.kind or "",
            remote_addr=remote or None,
        )
        return JsonResponse({"errors": errors}, status=status, json_dumps_params={"ensure_ascii": False})


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _flatten(errors: dict[str, Any]) -> str:
    return "; ".join(f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items())
