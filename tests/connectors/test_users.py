"""Connector.users() over HTTP against the sandbox: every user of a vault or an org with its
e-mail (a copy into another profile maps users by it), page after page."""

from records.connectors.base import UserInfo
from sandbox import demo
from sandbox.zoho_state import DATA_USER, REP, USER


def user_calls(sb, system, path):
    return [e for e in sb.log(system) if e.method == "GET" and e.path.split("?")[0].endswith(path)]


def test_vault_users_with_their_emails(vault):
    sb, _, conn = vault
    sb.clear_log("vault")
    users = {u.id: u for u in conn.users()}
    assert users[str(demo.VAULT_USER_ID)] == UserInfo(
        id=str(demo.VAULT_USER_ID), email=demo.VAULT_USERNAME, name="Demo User", active=True
    )
    assert users[str(demo.VAULT_DATA_USER_ID)].email == demo.VAULT_DATA_USER_NAME
    assert len(user_calls(sb, "vault", "/objects/users")) == 1


def test_vault_users_page_after_page(vault, monkeypatch):
    sb, _, conn = vault
    many = {70000 + i: (f"user{i}@sandbox.veevavault.com",) * 2 + ("User", str(i)) for i in range(450)}
    monkeypatch.setattr(sb.vault.state, "users", many)  # the sandbox's users (VaultState.users)
    sb.clear_log("vault")
    users = conn.users()
    assert len(users) == 450
    assert len({u.email for u in users}) == 450
    assert len(user_calls(sb, "vault", "/objects/users")) == 3  # 200 + 200 + 50


def test_zoho_users_with_their_emails(zoho):
    sb, _, conn = zoho
    sb.clear_log("zoho")
    users = {u.id: u for u in conn.users()}
    assert set(users) == {USER["id"], REP["id"], DATA_USER["id"]}
    assert users[REP["id"]] == UserInfo(id=REP["id"], email=REP["email"], name=REP["name"], active=True)
    assert len(user_calls(sb, "zoho", "/users")) == 1


def test_zoho_users_page_after_page_and_inactive_ones(zoho, monkeypatch):
    sb, _, conn = zoho
    many = {
        str(5725767000000160000 + i): {
            "id": str(5725767000000160000 + i),
            "name": f"User {i}",
            "email": f"user{i}@sandbox.zoho.example",
            "status": "disabled" if i == 0 else "active",
        }
        for i in range(250)
    }
    monkeypatch.setattr(sb.zoho.state, "users", {**sb.zoho.state.users, **many})
    sb.clear_log("zoho")
    users = {u.email: u for u in conn.users()}
    assert len(users) == 253
    assert not users["user0@sandbox.zoho.example"].active
    assert users["user1@sandbox.zoho.example"].active
    assert len(user_calls(sb, "zoho", "/users")) == 2  # 200 + 53
