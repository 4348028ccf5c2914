"""Building connectors from the registry: what is learned from it follows the registry."""

from records.connectors import REGISTRY, user_objects


def test_user_objects_follow_the_registry_after_a_stand_in_is_gone(monkeypatch):
    with monkeypatch.context() as patched:
        patched.setitem(REGISTRY, "vault", "records.connectors.base:Connector")
        assert "user__sys" not in user_objects()
    assert {"user__sys", "Users"} <= user_objects()
