"""End-to-end fixtures: the running system (started or reused) and a partner's webhook receiver.

The system is the project's local stack (deploy/local/tsunagu_stack, through `stack_plugin`): its
services run as processes on this machine, with PostgreSQL and Kafka from the stack. The tests
talk to it over HTTP only, like a counsellor or partner would.
"""

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from partner_receiver import Refused, verified  # deploy/local is on the path (tests/stack_plugin.py)
from stack_plugin import local_stack
from support import PersonalData, fresh_municipality_code

SERVICES = ("intake", "referral", "directory", "notify")
ALL_CAPABILITIES = (
    "INTERVIEW", "ACCOMPANY", "OUTREACH", "SHELTER", "FOOD", "CASH", "HOUSING", "JOB", "MEDICAL_LINK", "LEGAL",
    "MULTILINGUAL",
)  # fmt: skip


@dataclass
class System:
    stack: Any
    urls: dict[str, str]
    tokens: dict[str, str]
    zipkin: str

    def client(self, service: str, role: str = "operator") -> httpx.Client:
        return httpx.Client(
            base_url=self.urls[service],
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=10.0,
        )


@pytest.fixture(scope="session")
def system() -> Iterator[System]:
    stack = local_stack()
    stack.ensure_infra()
    stack.ensure_topics()
    for name in SERVICES:
        stack.start_service(name)
    tokens = {
        "counsellor": stack.mint_token("counsellor", f"e2e-counsellor-{uuid.uuid4().hex[:6]}"),
        "operator": stack.mint_token("operator", "e2e-operator"),
    }
    yield System(
        stack=stack,
        urls={name: stack.service_url(name) for name in SERVICES},
        tokens=tokens,
        zipkin=f"http://127.0.0.1:{stack.ports['zipkin']}",
    )


@dataclass
class Receipt:
    organisation_id: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    received_at: float

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """A partner's endpoint: verifies each delivery with the sample receiver's `verified`, so the
    Standard Webhooks headers notify sends (and the older ones only where those are absent)."""

    url: str
    secrets: dict[str, str] = field(default_factory=dict)
    receipts: list[Receipt] = field(default_factory=list)
    fail_with: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, organisation_id: str, headers: dict[str, str], body: bytes) -> bool:
        secret = self.secrets.get(organisation_id)
        if secret is None:
            return False
        try:
            verified(httpx.Headers(headers), [secret], body)  # looked up case-insensitively
        except Refused:
            return False
        return True

    def for_case(self, case_id: str) -> list[Receipt]:
        with self.lock:
            return [r for r in self.receipts if r.json.get("case_id") == case_id]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the partner's receiver did not see what was expected in time")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            recv = state["r"]
            organisation_id = self.path.rstrip("/").rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = recv.verify(organisation_id, headers, body)
            with recv.lock:
                recv.receipts.append(Receipt(organisation_id, headers, body, ok, time.time()))
                status = recv.fail_with.get(organisation_id, 200 if ok else 401)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"received": true}')

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["r"]
    server.shutdown()


@dataclass
class PartnerOrg:
    id: str
    municipality_code: str
    token: str


def _covered_directly(directory: httpx.Client, code: str) -> bool:
    """Whether an active organisation covers exactly this municipality (one a stopped run left, say).

    Such an organisation would compete with a new partner for the area's cases. Those that reach the
    code only through its prefecture or the whole country come back too, and are no clash.
    """
    response = directory.get(
        "/v1/organisations", params={"municipality_code": code, "active": "true", "limit": 500}
    )
    assert response.status_code == 200, response.text
    return any(
        code in organisation.get("coverage", [])
        or any(code in service.get("coverage", []) for service in organisation.get("services", []))
        for organisation in response.json()
    )


def register_partner(
    system: System,
    receiver: Receiver,
    created: list[str],
    topics: tuple[str, ...] = ("LONELY",),
    code: str | None = None,
) -> PartnerOrg:
    """Registers a partner organisation covering a fresh municipality, with its signing secret.

    Its id goes into `created` as soon as it exists, for `remove_partners` to delete afterwards.
    """
    org_id = str(uuid.uuid4())
    with system.client("directory") as directory:
        municipality = code or fresh_municipality_code(lambda c: _covered_directly(directory, c))
        response = directory.put(
            f"/v1/organisations/{org_id}",
            json={
                "name": f"E2E試験団体 {org_id[:8]}",
                "org_type": "NPO",
                "coverage": [municipality],
                "topics": list(topics),
                "webhook_url": f"{receiver.url}/hooks/{org_id}",
                # Capable of anything and open round the clock, so that the test's own
                # partner is the first choice for its area whatever the sample directory
                # holds one tier up.
                "capabilities": list(ALL_CAPABILITIES),
                "languages": ["ja", "en", "vi", "zh", "ko", "pt", "es", "tl", "ne"],
                "schedules": [{"byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "00:00", "closes_at": "24:00"}],
            },
        )
        assert response.status_code in (200, 201), response.text
    created.append(org_id)
    with system.client("notify") as notify:
        response = notify.post(f"/v1/partners/{org_id}/webhook-secret")
        assert response.status_code == 201, response.text
        receiver.secrets[org_id] = response.json()["secret"]
    token = system.stack.mint_token("partner", f"e2e-partner-{org_id[:8]}", org_id)
    return PartnerOrg(org_id, municipality, token)


def remove_partners(system: System, created: list[str]) -> None:
    with system.client("directory") as directory:
        for org_id in created:
            directory.delete(f"/v1/organisations/{org_id}")


@pytest.fixture
def partner_factory(system: System, receiver: Receiver) -> Iterator[Callable[..., PartnerOrg]]:
    """Registers partner organisations for one test (see `register_partner`), deleted afterwards."""
    created: list[str] = []

    def make(topics: tuple[str, ...] = ("LONELY",), code: str | None = None) -> PartnerOrg:
        return register_partner(system, receiver, created, topics, code)

    yield make
    remove_partners(system, created)


@pytest.fixture
def partner(partner_factory: Callable[..., PartnerOrg]) -> PartnerOrg:
    """One partner organisation for a test that needs just one: the factory's defaults."""
    return partner_factory()


@pytest.fixture(scope="session")
def personal_data() -> PersonalData:
    tag = uuid.uuid4().hex[:8]
    digits = f"{int(tag, 16) % 10**8:08d}"
    return PersonalData(
        name=f"試験 花子{tag}",
        phone=f"090-{digits[:4]}-{digits[4:]}",
        address=f"与那国町字与那国{tag}番地",
        summary=f"夜になると誰とも話せず食事もとれていない {tag}",
    )
