from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("veesing/", include("django_veesing.urls")),
    path("verify/", include("django_veesing.verification.urls")),
]
