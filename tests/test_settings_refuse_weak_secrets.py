"""Settings refuse weak secrets and keys outside an explicit development mode, and the web's
cookies are Secure outside it (the settings of intake and web, as each service builds them)."""

import base64

import pytest
from pydantic import ValidationError

from eventkit.auth import generate_signing_keypair
from eventkit.crypto import generate_keyring_entry
from intake.config import Settings as IntakeSettings
from web.config import Settings as WebSettings

pytestmark = pytest.mark.unit

PRIVATE_KEY, PUBLIC_KEY = generate_signing_keypair()
STRONG = "Zr3v9QhT2kLm8NwXy4Pb6Cd1Fg5Hj7Ks"
ALL_ZERO_KEYRING = "k1:" + base64.b64encode(bytes(32)).decode()


def intake(development_mode: bool, **secrets: str) -> IntakeSettings:
    values = {
        "encryption_keys": generate_keyring_entry(),
        "twilio_auth_token": STRONG,
        "line_channel_secret": STRONG,
        "line_channel_access_token": STRONG,
        **secrets,
    }
    return IntakeSettings(
        database_url="postgresql://intake@127.0.0.1/intake",  # type: ignore[arg-type]
        auth_public_key=PUBLIC_KEY,
        development_mode=development_mode,
        **values,  # type: ignore[arg-type]
    )


def test_real_secrets_start_outside_development_mode() -> None:
    assert intake(False).development_mode is False


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("line_channel_secret", "x", "shorter than 16 characters"),
        ("twilio_auth_token", "change_me_before_going_live", "a placeholder"),
        ("encryption_keys", ALL_ZERO_KEYRING, "one character repeated"),
        ("line_channel_access_token", "please-change-me-before-going-live", "a placeholder"),
    ],
)
def test_a_weak_secret_stops_start_up_naming_the_setting_not_the_value(
    setting: str, value: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        intake(False, **{setting: value})
    message = str(refused.value)
    assert f"{setting} is {reason}" in message
    assert value not in message.replace(f"{setting} is", "")


def test_development_mode_takes_throwaway_secrets() -> None:
    assert intake(True, line_channel_secret="x", encryption_keys=ALL_ZERO_KEYRING).development_mode


def test_the_session_cookie_is_secure_unless_in_development_mode() -> None:
    def web(development_mode: bool, cookie_secure: bool | None = None) -> WebSettings:
        return WebSettings(
            database_url="postgresql://web@127.0.0.1/web",  # type: ignore[arg-type]
            auth_public_key=PUBLIC_KEY,
            auth_signing_key=PRIVATE_KEY,  # type: ignore[arg-type]
            development_mode=development_mode,
            cookie_secure=cookie_secure,
        )

    assert web(False).secure_cookies is True
    assert web(True).secure_cookies is False
    assert web(True, cookie_secure=True).secure_cookies is True  # https in front of a test setup
