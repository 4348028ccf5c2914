"""`python -m bench.bound_org`: the latency_bounds copies' sandbox, a process of its own, set up as
the copies need it (read back through the connector over real HTTP)."""

import pytest

from bench.org_process import OrgProcess


@pytest.fixture
def target_org():
    org = OrgProcess(("-m", "bench.bound_org", "--target", "--poll-seconds", "0.1"))
    yield org
    org.stop()


def _zoho_connector(org, owner):
    from records.connectors import connector_for
    from records.models import ConnectionProfile
    from sandbox import demo

    profile = ConnectionProfile.objects.create(
        name="Bound org", **demo.profile_values("zoho", org.zoho_url), owner=owner
    )
    return connector_for(profile)


@pytest.mark.django_db
def test_the_target_org_has_every_deal_stage_and_contacts_email_is_not_unique(target_org, owner):
    assert target_org.vault_url.startswith("http://") and target_org.zoho_url != target_org.vault_url
    conn = _zoho_connector(target_org, owner)
    assert not next(f for f in conn.describe("Contacts") if f.name == "Email").unique
    assert "Negotiation" in next(f for f in conn.describe("Deals") if f.name == "Stage").picklist_values


def test_its_latency_is_set_through_the_control_endpoint(target_org):
    target_org.set_latency(0.05, "vault")
    assert target_org._control("GET", "faults", system="vault")["latency"] == 0.05
    assert target_org._control("GET", "faults")["latency"] == 0


def test_its_latency_is_each_calls_round_trip_with_the_work_inside(target_org):
    for system in ("vault", "zoho"):
        assert target_org._control("GET", "faults", system=system)["latency_covers_work"] is True
