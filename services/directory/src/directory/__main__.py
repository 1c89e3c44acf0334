"""`python -m directory`: serve directory with settings from DIRECTORY_* variables."""

from directory.config import Settings
from directory.main import create_app
from eventkit.runner import load_settings, serve


def main() -> None:
    settings = load_settings(Settings)
    serve(create_app(settings), settings, service="directory")


if __name__ == "__main__":
    main()
