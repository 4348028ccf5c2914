from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from records import rq_dashboard

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/rq/", include((rq_dashboard.urlpatterns(), "django_rq"))),
    path("admin/", admin.site.urls),
    path("", include("records.urls")),
]
