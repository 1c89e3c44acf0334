"""What the stack tells a person: the status table, where its data lives, and the welcome text
with URLs, demo sign-ins, tokens and example requests."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from tsunagu_stack.core import (
    API_SERVICES,
    COMPONENTS,
    LINE_API,
    LOOPBACK,
    MAIL,
    RECEIVER,
    WEB,
    StackError,
    emit,
)
from tsunagu_stack.probes import http_ok
from tsunagu_stack.secret_store import TOKEN_TTL_HOURS
from tsunagu_stack.services import DEMO_DEADLINES

if TYPE_CHECKING:
    from tsunagu_stack.stack import Stack


def healthy(stack: Stack, name: str) -> bool:
    if name == "postgres":
        return stack.postgres.ready()
    if name == "kafka":
        return stack.kafka.healthy()
    if name == "zipkin":
        return stack.zipkin.healthy()
    if name == MAIL:
        return stack.standins.mail_ready()
    return http_ok(f"{stack.service_url(name)}/readyz")


def where(stack: Stack, name: str) -> str:
    port = stack.ports[name]
    if name == "postgres":
        return f"postgresql://{LOOPBACK}:{port}/ (one database per service)"
    if name == "kafka":
        return f"{LOOPBACK}:{port} (bootstrap)"
    if name == "zipkin":
        return stack.zipkin_ui_url()
    if name == RECEIVER:
        return f"http://{LOOPBACK}:{port}/received"
    if name == MAIL:
        return f"smtp://{LOOPBACK}:{port} (messages in {stack.mail_dir})"
    if name == LINE_API:
        return f"http://{LOOPBACK}:{port}/sent"
    return f"http://{LOOPBACK}:{port}/docs"


def status(stack: Stack) -> int:
    """Print what runs where; 0 only if everything is up (3 otherwise)."""
    rows: list[tuple[str, str, str, str, str]] = []
    all_up = True
    for name in COMPONENTS:
        pid = stack.running_pid(name) if stack.state_dir.exists() else None
        if pid is None:
            state = "stopped"
            all_up = False
        elif healthy(stack, name):
            state = "running"
        else:
            state = "unhealthy"
            all_up = False
        rows.append((name, state, str(pid or "-"), str(stack.ports[name]), where(stack, name)))
        if name in API_SERVICES and stack.state_dir.exists():
            for extra in stack.replicas(name):
                url = stack.replica_url(name, int(extra.rsplit("-", 1)[1]))
                port = url.rsplit(":", 1)[1]
                rows.append((extra, "running", str(stack.running_pid(extra)), port, f"{url}/docs"))
    prometheus = stack.running_pid("prometheus") if stack.state_dir.exists() else None
    if prometheus is not None:
        url = stack.prometheus.url()
        rows.append(("prometheus", "running", str(prometheus), str(stack.ports["prometheus"]), url))
    headers = ("COMPONENT", "STATE", "PID", "PORT", "URL")
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in (headers, *rows)
    ]
    out += ["", notes(stack)]
    if not all_up:
        out += ["", "Not everything is running: `make up` (or python deploy/local/stack.py up)."]
    out += ["", welcome_text(stack)]
    emit("\n".join(out))
    return 0 if all_up else 3


def notes(stack: Stack) -> str:
    lines = [f"State (data, logs, secrets): {stack.state_dir}"]
    if stack.state_dir.exists() and stack.postgres.location_recorded:
        data = stack.pg_data_dir
        where = "" if data.is_relative_to(stack.state_dir) else "  (outside the state dir: "
        if where:
            where += "the postgres OS user cannot reach it)"
        lines.append(f"PostgreSQL data: {data}{where}")
    lines.append(f"Kafka data: {stack.kafka.data_dir}")
    lines.append("Zipkin keeps traces in memory only: they are lost when Zipkin stops.")
    lines.append(f"Logs: {stack.logs_dir}/<component>.log  (stack.py logs <component>)")
    return "\n".join(lines)


def welcome_text(stack: Stack) -> str:
    urls = {name: stack.service_url(name) for name in API_SERVICES}
    receiver = stack.service_url(RECEIVER)
    web = stack.service_url(WEB)
    lines = [
        "Tsunagu local stack",
        "===================",
        f"Screens (日本語 / English): {web}/",
        f"  web chat (anonymous):  {web}/chat",
        f"  counsellor console:    {web}/console",
        f"  partner portal:        {web}/portal",
        f"  operator dashboard:    {web}/ops",
    ]
    try:
        demo = stack.web_users()
    except (StackError, OSError, ValueError, KeyError) as exc:
        lines += [f"  (demo sign-ins unavailable: {exc})"]
    else:
        lines += ["  Demo sign-ins (username / password):"]
        for user in demo:
            note = f"   # {user['display_name']}" if user["role"] == "partner" else ""
            lines.append(f"    {user['username']:<11} {user['password']}{note}")
    lines += [
        "",
        "API docs (OpenAPI):",
    ]
    lines += [f"  {name:<10} {url}/docs" for name, url in urls.items()]
    lines += [
        f"Traces (Zipkin):      {stack.zipkin_ui_url()}   (in memory only)",
        f"Sample partner inbox: {receiver}/received   (log: {stack.log_path(RECEIVER)})",
        "",
    ]
    try:
        first = stack.sample_organisations()[0]
        counsellor = stack.mint_token("counsellor", "counsellor-demo")
        operator = stack.mint_token("operator", "operator-demo")
        partner = stack.mint_token("partner", "partner-demo", organisation_id=str(first["id"]))
    except (StackError, OSError, ValueError, IndexError, KeyError) as exc:
        lines += [f"(tokens unavailable: {exc})", ""]
    else:
        lines += [
            f"Demo tokens (valid {TOKEN_TTL_HOURS} hours):",
            f"  export COUNSELLOR_TOKEN='{counsellor}'",
            f"  export OPERATOR_TOKEN='{operator}'",
            f"  export PARTNER_TOKEN='{partner}'",
            f"    # partner of {first['name']} ({first['id']})",
            "  New ones: python deploy/local/stack.py token --role counsellor --subject me"
            " [--organisation-id ID]",
            "",
        ]
    lines += [
        "Record a serious consultation:",
        f"  curl -sS -X POST {urls['intake']}/v1/consultations \\",
        "    -H \"Authorization: Bearer $COUNSELLOR_TOKEN\" -H 'Content-Type: application/json' \\",
        "    -H 'Idempotency-Key: demo-1' \\",
        '    -d \'{"channel":"phone","topic":"LONELY","municipality_code":"131041",'
        '"severity":"S3","lawful_basis":"CONSENT",'
        '"summary":"(sample) 一人暮らしで食事がとれていない",'
        '"contact":{"name":"サンプル 太郎","phone":"090-0000-0000"}}\'',
        "",
        "Then watch the handoff arrive at the sample partner (新宿区, 131041):",
        f"  curl -sS {receiver}/received        or  tail -f {stack.log_path(RECEIVER)}",
        f"and follow the trace across services in Zipkin: {stack.zipkin_ui_url()}",
        "",
        f"E-mail alerts land as files in {stack.mail_dir}/ (tail -f {stack.log_path(MAIL)}).",
        "The sample partner never acknowledges, so watch the handoff move on: this stack's deadlines",
        f"are short (S3 {DEMO_DEADLINES['REFERRAL_DEADLINE_S3_S']} s, S4 "
        f"{DEMO_DEADLINES['REFERRAL_DEADLINE_S4_S']} s; the service defaults are 30 and 10 minutes).",
        "After S3's deadline the next ranked organisation is offered the case (up to 3), then the",
        "referral is exhausted and operators are alerted. The whole story, with trace ids:",
        '  curl -sS -H "Authorization: Bearer $COUNSELLOR_TOKEN" \\',
        f"    '{urls['referral']}/v1/referrals?case_id=<case_id>'   # then …/v1/referrals/<id>/timeline",
        "To acknowledge instead, open the 'acknowledge' link of the webhook (or the e-mail) and press",
        "the button; or POST …/v1/referrals/<id>/attempts/<n>/acknowledge with $PARTNER_TOKEN.",
        "",
        *channel_examples(stack, urls["intake"]),
        "Stop everything: make down   (python deploy/local/stack.py down); data is kept in",
        f"  {stack.state_dir}  — delete that directory for a clean slate.",
    ]
    return "\n".join(lines)


def channel_examples(stack: Stack, intake: str) -> list[str]:
    """Signed example requests of the phone and LINE channels (intake.examples signs them)."""
    call_sid = "CA" + secrets.token_hex(16)
    try:
        token = stack.secrets.channel("twilio_auth_token")
        sign = "phone_curl"
        call = stack.project.call("intake.examples", sign, token, intake, call_sid=call_sid)
        digit = stack.project.call("intake.examples", sign, token, intake, digits="9", call_sid=call_sid)
        secret = stack.secrets.channel("line_channel_secret")
        chat = stack.project.call("intake.examples", "line_curl", secret, intake, text="話を聞いてほしいです")
    except (StackError, OSError, ValueError) as exc:
        return [f"(channel examples unavailable: {exc})", ""]

    def indent(text: str) -> list[str]:
        return ["    " + line for line in str(text).splitlines()]

    return [
        "Phone channel — a call as the voice provider posts it (signed with X-Twilio-Signature);",
        "the answer is TwiML reading the voice menu in Japanese:",
        *indent(call),
        "  the caller presses 9 (same CallSid) and is connected to the desk:",
        *indent(digit),
        "LINE channel — a message as LINE posts it (signed with X-Line-Signature); the bot's quick",
        f"reply goes to the LINE stand-in: curl -sS {stack.service_url(LINE_API)}/sent",
        *indent(chat),
        '  Counsellors: GET /v1/channels/phone/legs and GET /v1/chats (README "Channels");',
        "  more signed examples: INTAKE_*=… .venv/bin/python -m intake sign-example phone|line --help",
        "",
    ]
