"""Settings from the environment: defaults, parsing, and half credential pairs."""

from __future__ import annotations

import pytest

from botkit import ConfigError, Settings


def test_defaults_on_a_fresh_machine() -> None:
    s = Settings.from_env({})
    assert s.store == "sqlite:///botkit.db"
    assert s.messages_url == "https://api.nexmo.com/v1/messages"
    assert s.api_version == "v1"
    assert s.max_body == 65536
    assert s.signature_strict is False
    assert s.has_credentials is False
    assert s.sandbox_enabled is True


def test_values_are_read_and_parsed() -> None:
    s = Settings.from_env(
        {
            "VONAGE_API_KEY": "key",
            "VONAGE_API_SECRET": "secret",
            "VONAGE_MESSAGES_URL": "https://api-eu.vonage.com/v1/messages",
            "BOTKIT_API_VERSION": "v0.1",
            "BOTKIT_STORE": "memory://",
            "BOTKIT_SIGNATURE_STRICT": "true",
            "BOTKIT_MAX_BODY": "1024",
            "BOTKIT_RATE": "2.5",
        }
    )
    assert (s.api_key, s.api_secret) == ("key", "secret")
    assert s.messages_url == "https://api-eu.vonage.com/v1/messages"
    assert (s.api_version, s.store, s.signature_strict, s.max_body, s.rate) == (
        "v0.1",
        "memory://",
        True,
        1024,
        2.5,
    )
    assert s.sandbox_enabled is False
    assert "secret" not in repr(s)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"VONAGE_API_KEY": "k"}, "VONAGE_API_SECRET"),
        ({"VONAGE_API_SECRET": "s"}, "VONAGE_API_KEY"),
        ({"VONAGE_APPLICATION_ID": "a"}, "VONAGE_PRIVATE_KEY"),
        ({"VONAGE_PRIVATE_KEY": "p"}, "VONAGE_APPLICATION_ID"),
    ],
)
def test_half_a_credential_pair_names_the_missing_variable(
    env: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=f"{missing} is missing"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BOTKIT_API_VERSION": "v2"}, "BOTKIT_API_VERSION"),
        ({"BOTKIT_SANDBOX": "maybe"}, "BOTKIT_SANDBOX"),
        ({"BOTKIT_SIGNATURE_STRICT": "sometimes"}, "BOTKIT_SIGNATURE_STRICT"),
        ({"BOTKIT_MAX_BODY": "big"}, "BOTKIT_MAX_BODY"),
        ({"BOTKIT_SANDBOX": "off"}, "needs credentials"),
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.store = "memory://"  # type: ignore[misc]
