from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from records.accounts import sso
from records.ops import rq_dashboard

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", sso.logout, name="logout"),
    path("oidc/", include(sso.urlpatterns)),
    path("admin/rq/", include((rq_dashboard.urlpatterns(), "django_rq"))),
    # Before the admin's own login URL (same path; reverse("admin:login") still finds it).
    path("admin/login/", sso.admin_login_gate, name="admin_login_gate"),
    path("admin/logout/", sso.logout, name="admin_logout"),  # one logout: at the provider too
    path("admin/", admin.site.urls),
    path("api/v1/", include("records.api.urls")),
    path("", include("records.urls")),
]
