"""compose's one-shot `seed` service: the local stack's sample data, put in the same way.

The sample organisations and the HSDS sample directory (directory), their webhook secrets (notify;
kept in /data/receiver/secrets.json, where the `receiver` service verifies the deliveries), a
voice menu (intake) and the demo sign-ins (web's database), then the sign-ins are printed:

    docker compose -f deploy/compose.yaml logs seed

It is deploy/local/tsunagu_stack's SampleData with compose's addresses; the state it keeps (the
demo passwords, the partners' webhook secrets) lives in the `seed-state` volume, so a second run
changes nothing and the passwords stay. The operator token it signs with is made from the
compose's own signing key (deploy/.env), which is put in that state for the stack's code to use.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "local"))

from tsunagu_stack.core import RECEIVER, StackError
from tsunagu_stack.project import Project
from tsunagu_stack.sample_data import SampleData
from tsunagu_stack.secret_store import SecretStore
from tsunagu_stack.state import StateDir, write_atomic

STATE = Path(os.environ.get("SEED_STATE_DIR", "/data"))
URLS = {
    "directory": os.environ.get("SEED_DIRECTORY_URL", "http://directory:8103"),
    "intake": os.environ.get("SEED_INTAKE_URL", "http://intake:8101"),
    "notify": os.environ.get("SEED_NOTIFY_URL", "http://notify:8104"),
    RECEIVER: os.environ.get("SEED_RECEIVER_URL", "http://receiver:8109"),
}


def _adopt_signing_key(state: StateDir) -> None:
    """Put compose's signing key pair where the stack's SecretStore keeps its own."""
    try:
        kept = json.loads(state.secrets.read_text())
    except FileNotFoundError:
        kept = {}
    kept["auth"] = {
        "signing_keypair": {
            "private_key": os.environ["WEB_AUTH_SIGNING_KEY"],
            "public_key": os.environ["WEB_AUTH_PUBLIC_KEY"],
        }
    }
    write_atomic(state.secrets, json.dumps(kept, indent=2) + "\n", mode=0o600)


def main() -> int:
    state = StateDir(STATE)
    state.prepare()
    _adopt_signing_key(state)
    project = Project(Path(__file__).resolve().parents[2])
    secrets = SecretStore(state, project)
    sample = SampleData(state, project, secrets, URLS.__getitem__, lambda: dict(os.environ))
    try:
        sample.seed()
        sample.seed_web_users()
        users = sample.web_users()
    except StackError as error:
        print(f"seed: {error}", file=sys.stderr)
        return 1
    print("Demo sign-ins at http://127.0.0.1:8100/ (username / password):")
    for user in users:
        print(f"  {user['username']:<11} {user['password']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
