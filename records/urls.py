from django.urls import path

from records import health, views, views_bulk, views_choices, views_copy, views_jobs, views_profiles

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", health.ready, name="health"),
    path("health/ready/", health.ready, name="health_ready"),
    path("health/live/", health.live, name="health_live"),
    # Connection profiles
    path("profiles/", views_profiles.profile_list, name="profile_list"),
    path("profiles/add/", views_profiles.profile_add, name="profile_add"),
    path("profiles/<uuid:code>/edit/", views_profiles.profile_edit, name="profile_edit"),
    path("profiles/<uuid:code>/delete/", views_profiles.profile_delete, name="profile_delete"),
    path("profiles/<uuid:code>/test/", views_profiles.profile_test, name="profile_test"),
    path("profiles/<uuid:code>/copy-keys/", views_profiles.profile_copy_keys, name="profile_copy_keys"),
    # New copy, step by step
    path("copy/", views_copy.copy_start, name="copy_start"),
    path("copy/<uuid:profile_code>/", views_copy.copy_objects, name="copy_objects"),
    path("copy/<uuid:profile_code>/<str:object_name>/", views_copy.copy_search, name="copy_search"),
    path(
        "copy/<uuid:profile_code>/<str:object_name>/fields.json",
        views_choices.object_fields,
        name="copy_object_fields",
    ),
    path(
        "copy/<uuid:profile_code>/<str:object_name>/<str:record_id>/",
        views_copy.copy_record,
        name="copy_record",
    ),
    path("copy/preview/<str:draft_id>/", views_copy.copy_preview, name="copy_preview"),
    path("copy/preview/<str:draft_id>/plan.json", views_copy.copy_plan_status, name="copy_plan_status"),
    path("copy/preview/<str:draft_id>/choices/", views_choices.copy_choices, name="copy_choices"),
    path("lookup/<uuid:profile_code>/<str:object_name>/", views_copy.record_lookup, name="record_lookup"),
    path("bulk/", views_bulk.bulk_upload, name="bulk_upload"),
    path("bulk/template.csv", views_bulk.bulk_template, name="bulk_template"),
    # Jobs
    path("jobs/", views_jobs.job_list, name="job_list"),
    path("jobs/<uuid:code>/", views_jobs.job_detail, name="job_detail"),
    path("jobs/<uuid:code>/progress.json", views_jobs.job_progress, name="job_progress"),
    path("jobs/<uuid:code>/rows/", views_jobs.job_rows, name="job_rows"),
    path("jobs/<uuid:code>/objects.json", views_jobs.job_objects, name="job_objects"),
    path("jobs/<uuid:code>/results.csv", views_jobs.job_results_csv, name="job_results_csv"),
    path("jobs/<uuid:code>/cancel/", views_jobs.job_action, {"action": "cancel"}, name="job_cancel"),
    path("jobs/<uuid:code>/retry/", views_jobs.job_action, {"action": "retry"}, name="job_retry"),
    path("jobs/<uuid:code>/resume/", views_jobs.job_action, {"action": "resume"}, name="job_resume"),
    path("jobs/<uuid:code>/undo/", views_jobs.job_undo, name="job_undo"),
    path("jobs/<uuid:code>/rows/<int:row>/pick/", views_jobs.job_row_pick, name="job_row_pick"),
    path("jobs/<uuid:code>/rows/<int:row>/none/", views_jobs.job_row_none, name="job_row_none"),
]
