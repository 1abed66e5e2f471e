from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .views import phone_login

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("veesing/", include("django_veesing.urls")),
    path("verify/", include("django_veesing.verification.urls")),
    path("demo/login/", phone_login, name="demo-phone-login"),
]
