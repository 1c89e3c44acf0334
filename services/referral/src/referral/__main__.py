"""`python -m referral`: serve referral with settings from REFERRAL_* variables."""

from eventkit.runner import load_settings, serve
from referral.config import Settings
from referral.main import create_app


def main() -> None:
    settings = load_settings(Settings)
    serve(create_app(settings), settings, service="referral")


if __name__ == "__main__":
    main()
