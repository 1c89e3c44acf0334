"""`python -m notify`: serve notify with settings from NOTIFY_* variables."""

from eventkit.runner import load_settings, serve
from notify.config import Settings
from notify.main import create_app


def main() -> None:
    settings = load_settings(Settings)
    serve(create_app(settings), settings, service="notify")


if __name__ == "__main__":
    main()
