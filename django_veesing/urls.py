"""URLs of the app: ``path("veesing/", include("django_veesing.urls"))``.

One address takes both receipts and replies; the two others serve accounts whose console
sets one address for each.
"""

from django.urls import path

from .receiving.parsing import RECEIPT, REPLY
from .receiving.views import CallbackView

app_name = "django_veesing"

urlpatterns = [
    path("callback/<str:token>/", CallbackView.as_view(), name="callback"),
    path("callback/<str:token>/receipts/", CallbackView.as_view(kind=RECEIPT), name="callback-receipts"),
    path("callback/<str:token>/replies/", CallbackView.as_view(kind=REPLY), name="callback-replies"),
]
