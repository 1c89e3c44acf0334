"""Sample data for a newcomer's stack: organisations, the HSDS sample directory, their webhook
secrets, a voice menu, a few answered handoffs for the reports, and the demo sign-ins of the
screens. Every step is safe to repeat."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from tsunagu_stack.core import LOCAL_DIR, RECEIVER, WEB, StackError, say, warn
from tsunagu_stack.probes import http_json, route_missing
from tsunagu_stack.processes import run
from tsunagu_stack.project import Project
from tsunagu_stack.sample_failed_handoff import seed_failed_handoff
from tsunagu_stack.sample_reports import SampleHandoffs
from tsunagu_stack.sample_rota import seed_rota
from tsunagu_stack.secret_store import SecretStore
from tsunagu_stack.state import StateDir, write_atomic

SAMPLE_DIR: Final = LOCAL_DIR / "sample"


def _seed_call(
    service: str, method: str, url: str, payload: Any, token: str, *, skipped: str, timeout: float = 10.0
) -> tuple[int, Any] | None:
    """`http_json` while seeding: None, after saying what is `skipped`, when the service is not
    reachable or does not serve the route yet (an older build) — the stack comes up without it."""
    try:
        answer = http_json(method, url, payload, token, timeout=timeout)
    except (OSError, http.client.HTTPException) as exc:
        warn(f"{service} is not reachable ({exc}); {skipped}")
        return None
    status, reply = answer
    if route_missing(status, reply):
        warn(f"{service} does not serve {method} {urlsplit(url).path} yet (HTTP {status}); {skipped}")
        return None
    return answer


class SampleData:
    def __init__(
        self,
        state: StateDir,
        project: Project,
        secrets: SecretStore,
        url: Callable[[str], str],
        web_env: Callable[[], dict[str, str]],
    ) -> None:
        self.state = state
        self.project = project
        self.secrets = secrets
        self.url = url
        self.web_env = web_env

    def organisations(self) -> list[dict[str, Any]]:
        data = json.loads((SAMPLE_DIR / "organisations.json").read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise StackError("sample/organisations.json should hold a JSON list")
        return data

    @property
    def receiver_secrets_path(self) -> Path:
        return self.state.receiver / "secrets.json"

    def seed(self) -> None:
        """Register the sample organisations and their webhook secrets; safe to repeat."""
        try:
            token = self.secrets.mint_token("operator", "stack-seed")
        except StackError as exc:
            warn(f"cannot mint an operator token, sample data not seeded: {exc}")
            return
        organisations = self.organisations()
        directory = self.url("directory")
        receiver = self.url(RECEIVER)
        seeded = 0
        for org in organisations:
            body = {key: value for key, value in org.items() if key != "id"}
            # The receiver port can be overridden; the sample file holds the default one.
            body["webhook_url"] = f"{receiver}/hooks/{org['id']}"
            url = f"{directory}/v1/organisations/{org['id']}"
            answer = _seed_call(
                "directory", "PUT", url, body, token, skipped="sample organisations not seeded"
            )
            if answer is None:
                break
            status, reply = answer
            if status not in (200, 201):
                warn(f"PUT {url} → HTTP {status}: {str(reply)[:300]}")
                continue
            if status == 201:
                # New: confirmed with the (fictional) organisation today, so the demo partners are
                # not flagged for confirming again; a repeat seed leaves the date alone.
                http_json("POST", f"{url}/verification", None, token)
            seeded += 1
        if seeded:
            say(f"sample data: {seeded} organisations registered in directory")
        imported = self._import_directory(token)
        self._seed_webhook_secrets(organisations + imported, token)
        self._seed_voice_menu(organisations, token)
        SampleHandoffs(self.url, self.secrets.mint_token).seed()
        seed_failed_handoff(self.url, self.secrets.mint_token)
        seed_rota(self.url, token)

    def _seed_voice_menu(self, organisations: list[dict[str, Any]], token: str) -> None:
        """Put a sample voice menu on the phone line (once: an active one is left alone)."""
        intake = self.url("intake")
        try:
            status, _ = http_json("GET", f"{intake}/v1/voice-menus/active", None, token)
            if status != 404:
                return
            body = self.project.call("intake.examples", "sample_voice_menu", str(organisations[0]["id"]))
            status, reply = http_json("POST", f"{intake}/v1/voice-menus", body, token)
            if status != 201 or not isinstance(reply, dict):
                warn(f"sample voice menu not created: HTTP {status}: {str(reply)[:300]}")
                return
            status, _ = http_json("POST", f"{intake}/v1/voice-menus/{reply['id']}/activate", None, token)
        except (OSError, http.client.HTTPException, StackError, IndexError, KeyError) as exc:
            warn(f"sample voice menu not seeded: {exc}")
            return
        say(f"sample data: voice menu {reply['campaign']} v{reply['version']} on the phone line")

    def _import_directory(self, token: str) -> list[dict[str, Any]]:
        """Load the sample directory (HSDS 3.0 JSON, 300+ organisations) in one request.

        Idempotent: directory's import changes only what differs, so a repeat is quick and
        records nothing. Returns the organisations that take webhooks, for their secrets.
        """
        path = SAMPLE_DIR / "directory.hsds.json"
        if not path.exists():
            return []
        document = json.loads(path.read_text(encoding="utf-8"))
        receiver = self.url(RECEIVER)
        with_webhook = []
        for org in document.get("organizations", []):
            extension = org.get("x_tsunagu") or {}
            if extension.get("webhook_url"):
                # The receiver port can be overridden; the file holds the default one.
                extension["webhook_url"] = f"{receiver}/hooks/{org['id']}"
                with_webhook.append({"id": org["id"]})
        url = f"{self.url('directory')}/v1/hsds/import"
        answer = _seed_call(
            "directory", "POST", url, document, token, skipped="sample directory not loaded", timeout=120
        )
        if answer is None:
            return []
        status, reply = answer
        if status != 200 or not isinstance(reply, dict):
            warn(f"POST {url} → HTTP {status}: {str(reply)[:300]}")
            return []
        say(
            f"sample data: sample directory of {reply['organizations']} organisations loaded "
            f"({reply['created']} new, {reply['changed_fields']} fields changed)"
        )
        return with_webhook

    def _seed_webhook_secrets(self, organisations: list[dict[str, Any]], token: str) -> None:
        path = self.receiver_secrets_path
        try:
            known: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            known = {}
        notify = self.url("notify")
        added = 0
        for org in organisations:
            org_id = str(org["id"])
            if known.get(org_id):
                continue
            url = f"{notify}/v1/partners/{org_id}/webhook-secret"
            answer = _seed_call("notify", "POST", url, None, token, skipped="webhook secrets not issued")
            if answer is None:
                break
            status, reply = answer
            if status not in (200, 201) or not isinstance(reply, dict) or "secret" not in reply:
                warn(f"POST {url} → HTTP {status}: {str(reply)[:300]}")
                continue
            known[org_id] = reply["secret"]
            added += 1
            # Written after each secret: notify returns a secret only once, so a lost one
            # cannot be read back, only rotated.
            write_atomic(path, json.dumps(known, indent=2) + "\n", mode=0o600)
        if added:
            say(f"sample data: {added} webhook secrets issued and stored in {path}")

    def web_users(self) -> list[dict[str, Any]]:
        """The demo sign-ins: a counsellor, an operator, and one partner user per sample
        organisation; passwords generated once and kept in secrets.json."""
        users: list[dict[str, Any]] = [
            {"username": "counsellor", "display_name": "相談員 デモ", "role": "counsellor"},
            {"username": "operator", "display_name": "運用担当 デモ", "role": "operator"},
        ]
        for index, org in enumerate(self.organisations()[:8], start=1):
            users.append(
                {
                    "username": f"partner{index}",
                    "display_name": str(org.get("name", f"partner {index}")),
                    "role": "partner",
                    "organisation_id": str(org["id"]),
                }
            )
        return [dict(user, password=self.secrets.web_password(user["username"])) for user in users]

    def seed_web_users(self) -> None:
        """Create or update the demo sign-ins in web's database; safe to repeat."""
        users = self.web_users()
        result = run(
            [self.project.python, "-m", WEB, "seed-users"],
            env=self.web_env(),
            cwd=self.project.root,
            input_text=json.dumps(users, ensure_ascii=False),
            timeout=120,
            check=False,
            what="python -m web seed-users",
        )
        if result.returncode != 0:
            warn(f"demo sign-ins not seeded: {result.stdout.strip()[-500:]}")
            return
        say(f"sample data: {len(users)} demo sign-ins for the screens")
