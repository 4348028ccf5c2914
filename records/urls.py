from django.urls import path

from records.copy_templates import edit_views as template_edit_views
from records.copy_templates import views as template_views
from records.ops import health
from records.profiles import views as profile_views
from records.schedules import views as schedule_views
from records.web.views import (
    bulk,
    choices,
    cross_choices,
    home,
    job_csv,
    job_fix,
    jobs,
    mask_choices,
    my_settings,
    new_copy,
    search,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("health/", health.ready, name="health"),
    path("health/ready/", health.ready, name="health_ready"),
    path("health/live/", health.live, name="health_live"),
    # Without the slash too, as the README writes them: a balancer does not follow a 301.
    path("health/ready", health.ready, name="health_ready_bare"),
    path("health/live", health.live, name="health_live_bare"),
    path("favicon.ico", home.favicon, name="favicon"),
    # Connection profiles
    path("profiles/", profile_views.profile_list, name="profile_list"),
    path("profiles/add/", profile_views.profile_add, name="profile_add"),
    path("profiles/<uuid:code>/edit/", profile_views.profile_edit, name="profile_edit"),
    path("profiles/<uuid:code>/lineage/", profile_views.profile_lineage, name="profile_lineage"),
    path("profiles/<uuid:code>/delete/", profile_views.profile_delete, name="profile_delete"),
    path("profiles/<uuid:code>/test/", profile_views.profile_test, name="profile_test"),
    path("profiles/<uuid:code>/copy-keys/", profile_views.profile_copy_keys, name="profile_copy_keys"),
    # New copy, step by step
    path("copy/", new_copy.copy_start, name="copy_start"),
    path("copy/<uuid:profile_code>/", new_copy.copy_objects, name="copy_objects"),
    path("copy/<uuid:profile_code>/<str:object_name>/", search.copy_search, name="copy_search"),
    path("copy/query/<uuid:profile_code>/<str:object_name>/", search.copy_query, name="copy_query"),
    path(
        "copy/<uuid:profile_code>/<str:object_name>/fields.json",
        choices.object_fields,
        name="copy_object_fields",
    ),
    path(
        "copy/<uuid:profile_code>/<str:object_name>/<str:record_id>/",
        new_copy.copy_record,
        name="copy_record",
    ),
    path("copy/preview/<str:draft_id>/", new_copy.copy_preview, name="copy_preview"),
    path("copy/preview/<str:draft_id>/confirm/", new_copy.copy_confirm, name="copy_confirm"),
    path("copy/preview/<str:draft_id>/plan.json", new_copy.copy_plan_status, name="copy_plan_status"),
    path("copy/preview/<str:draft_id>/choices/", choices.copy_choices, name="copy_choices"),
    path("copy/preview/<str:draft_id>/target/", cross_choices.copy_target, name="copy_target"),
    path("copy/preview/<str:draft_id>/cross/", cross_choices.copy_cross_choices, name="copy_cross_choices"),
    path("copy/preview/<str:draft_id>/masking/", mask_choices.copy_mask_choices, name="copy_mask_choices"),
    path("copy/preview/<str:draft_id>/save-template/", template_views.copy_save_template, name="copy_save_template"),
    path("lookup/<uuid:profile_code>/<str:object_name>/", new_copy.record_lookup, name="record_lookup"),
    path("bulk/", bulk.bulk_upload, name="bulk_upload"),
    path("bulk/template.csv", bulk.bulk_template, name="bulk_template"),
    # Saved copy templates
    path("templates/", template_views.template_list, name="template_list"),
    path("templates/<uuid:code>/", template_views.template_detail, name="template_detail"),
    path("templates/<uuid:code>/edit/", template_edit_views.template_edit, name="template_edit"),
    path("templates/<uuid:code>/run/", template_views.template_run, name="template_run"),
    path("templates/<uuid:code>/share/", template_views.template_share, name="template_share"),
    path("templates/<uuid:code>/schedules/", schedule_views.schedule_add, name="schedule_add"),
    path("templates/<uuid:code>/schedules/<int:pk>/switch/", schedule_views.schedule_switch, name="schedule_switch"),
    path("templates/<uuid:code>/schedules/<int:pk>/remove/", schedule_views.schedule_remove, name="schedule_remove"),
    # Jobs
    path("settings/", my_settings.my_settings, name="my_settings"),
    path("settings/tokens/", my_settings.api_token_create, name="api_token_create"),
    path("settings/tokens/<int:token_id>/revoke/", my_settings.api_token_revoke, name="api_token_revoke"),
    path("jobs/<uuid:code>/save-template/", template_views.job_save_template, name="job_save_template"),
    path("jobs/", jobs.job_list, name="job_list"),
    path("jobs/<uuid:code>/", jobs.job_detail, name="job_detail"),
    path("jobs/<uuid:code>/live/", jobs.job_live, name="job_live"),
    path("jobs/<uuid:code>/rows/", jobs.job_rows, name="job_rows"),
    path("jobs/<uuid:code>/results.csv", job_csv.job_results_csv, name="job_results_csv"),
    path("jobs/<uuid:code>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<uuid:code>/resume/", jobs.job_resume, name="job_resume"),
    path("jobs/<uuid:code>/retry/", jobs.job_retry_redirect, name="job_retry_redirect"),  # Resume's older URL
    path("jobs/<uuid:code>/undo/", jobs.job_undo, name="job_undo"),
    path("jobs/<uuid:code>/approve/", jobs.job_approve, name="job_approve"),
    path("jobs/<uuid:code>/reject/", jobs.job_reject, name="job_reject"),
    path("jobs/<uuid:code>/rows/<int:row>/pick/", jobs.job_row_pick, name="job_row_pick"),
    path("jobs/<uuid:code>/fix/", job_fix.job_fix, name="job_fix"),
    path("jobs/<uuid:code>/fix/rows/<int:row>/", job_fix.job_fix_row, name="job_fix_row"),
    path("jobs/<uuid:code>/fix/all/", job_fix.job_fix_all, name="job_fix_all"),
    path("jobs/<uuid:code>/rows/<int:row>/none/", jobs.job_row_none, name="job_row_none"),
]
