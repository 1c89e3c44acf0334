"""`python -m intake`: serve intake with settings from INTAKE_* variables."""

from eventkit.runner import load_settings, serve
from intake.config import Settings
from intake.main import create_app


def main() -> None:
    settings = load_settings(Settings)
    serve(create_app(settings), settings, service="intake")


if __name__ == "__main__":
    main()
