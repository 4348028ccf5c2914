"""The admin in a real browser: its result filter names objects by the labels the jobs' plans read
("Formulations (formulation__c)"), not by API names beside Zoho's label-like ones."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_results_object_filter_names_objects_by_label(new_page, login, live_server, owner, make_job):
    objects = [
        {"object_name": "product__v", "label": "Products", "count": 1, "depth": 0},
        {"object_name": "formulation__c", "label": "Formulations", "count": 2, "depth": 1},
    ]
    make_job(results=4, mode="deep_copy", plan={"objects": objects})  # rows S00000..S00003, two of each
    owner.is_staff = owner.is_superuser = True
    owner.save()
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/admin/records/recordresult/")
    choices = page.locator("#changelist-filter a")
    expect(choices.filter(has_text="formulation__c")).to_have_text(["Formulations (formulation__c)"])
    expect(choices.filter(has_text="product__v")).to_have_text(["Products (product__v)"])
    choices.filter(has_text="Formulations").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("S00001")
    expect(page.locator("#result_list")).not_to_contain_text("S00002")
