"""/api/v1/: the endpoints (views.py) and their OpenAPI schema. No Swagger page: it loads from a
CDN, which the Content-Security-Policy forbids."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from records.api import views

urlpatterns = [
    path("templates/", views.TemplateList.as_view(), name="api_template_list"),
    path("templates/<uuid:code>/run/", views.TemplateRun.as_view(), name="api_template_run"),
    path("jobs/<uuid:code>/", views.JobDetail.as_view(), name="api_job_detail"),
    path("jobs/<uuid:code>/results/", views.JobResults.as_view(), name="api_job_results"),
    path("jobs/<uuid:code>/cancel/", views.JobCancel.as_view(), name="api_job_cancel"),
    path("jobs/<uuid:code>/resume/", views.JobResume.as_view(), name="api_job_resume"),
    path("jobs/<uuid:code>/undo/", views.JobUndo.as_view(), name="api_job_undo"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
]
