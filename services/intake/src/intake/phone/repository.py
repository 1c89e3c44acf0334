"""phone's SQL: voice menus and their activations, and call legs (one per call)."""

import uuid
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

from contracts.vocabulary import Topic
from eventkit.build import from_attributes, from_row
from intake.phone.domain import Desk, Hours, MenuDraft, MenuOption, VoiceMenu, Window, format_hhmm, parse_hhmm

# ---- voice menus ----------------------------------------------------------------------------


def options_to_json(options: tuple[MenuOption, ...]) -> list[dict[str, object]]:
    """The options column's shape."""
    return [
        {
            "digit": o.digit,
            "topic": o.topic.value,
            "label": o.label,
            "desk": None
            if o.desk is None
            else {
                "organisation_id": str(o.desk.organisation_id),
                "number": o.desk.number,
                "hours": {
                    "always": o.desk.hours.always,
                    "windows": [
                        {
                            "start": format_hhmm(w.start),
                            "end": format_hhmm(w.end),
                            "weekdays": sorted(w.weekdays),
                        }
                        for w in o.desk.hours.windows
                    ],
                },
            },
        }
        for o in options
    ]


def options_from_json(data: list[dict[str, Any]]) -> tuple[MenuOption, ...]:
    options = []
    for item in data:
        desk_data = item.get("desk")
        desk = None
        if isinstance(desk_data, dict):
            hours = desk_data["hours"]
            windows = tuple(
                Window(parse_hhmm(w["start"]), parse_hhmm(w["end"]), frozenset(w.get("weekdays", ())))
                for w in hours.get("windows", ())
            )
            desk = Desk(
                uuid.UUID(str(desk_data["organisation_id"])),
                str(desk_data["number"]),
                Hours(bool(hours.get("always")), windows),
            )
        options.append(MenuOption(str(item["digit"]), Topic(str(item["topic"])), str(item["label"]), desk))
    return tuple(options)


_MENU_FIELDS = (
    "id",
    "campaign",
    "version",
    "greeting",
    "fallback_number",
    "options",
    "starts_at",
    "ends_at",
    "created_by",
    "created_at",
)
_MENU_COLUMNS = ", ".join(_MENU_FIELDS)


def _menu(row: asyncpg.Record) -> VoiceMenu:
    return from_row(VoiceMenu, row, options=options_from_json(row["options"]))


async def insert_menu(
    conn: asyncpg.Connection, *, draft: MenuDraft, fallback_number: str, by: str, at: datetime
) -> VoiceMenu:
    """The campaign's next version, numbered here."""
    # Two operators creating versions of one campaign at once take turns.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('voice_menu:' || $1))", draft.campaign)
    version: int = await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM voice_menus WHERE campaign = $1", draft.campaign
    )
    menu = from_attributes(
        VoiceMenu,
        draft,
        id=uuid.uuid4(),
        version=version,
        fallback_number=fallback_number,
        created_by=by,
        created_at=at,
    )
    await conn.execute(
        f"INSERT INTO voice_menus ({_MENU_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        menu.id,
        menu.campaign,
        menu.version,
        menu.greeting,
        menu.fallback_number,
        options_to_json(menu.options),
        menu.starts_at,
        menu.ends_at,
        menu.created_by,
        menu.created_at,
    )
    return menu


async def get_menu(conn: asyncpg.Connection, *, menu_id: uuid.UUID) -> VoiceMenu | None:
    row = await conn.fetchrow(f"SELECT {_MENU_COLUMNS} FROM voice_menus WHERE id = $1", menu_id)
    return _menu(row) if row else None


async def list_menus(conn: asyncpg.Connection, *, campaign: str | None, limit: int) -> list[VoiceMenu]:
    rows = await conn.fetch(
        f"""SELECT {_MENU_COLUMNS} FROM voice_menus WHERE ($1::text IS NULL OR campaign = $1)
             ORDER BY created_at DESC, campaign, version DESC LIMIT $2""",
        campaign,
        limit,
    )
    return [_menu(r) for r in rows]


async def activate_menu(conn: asyncpg.Connection, *, menu_id: uuid.UUID, by: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO voice_menu_activations (menu_id, activated_by, activated_at) VALUES ($1, $2, $3)",
        menu_id,
        by,
        at,
    )


async def active_menu(conn: asyncpg.Connection) -> tuple[VoiceMenu, datetime] | None:
    """The menu on the line (the latest activation) and when it was put there."""
    row = await conn.fetchrow(
        f"""SELECT {", ".join("m." + name for name in _MENU_FIELDS)}, a.activated_at
              FROM voice_menu_activations a JOIN voice_menus m ON m.id = a.menu_id
             ORDER BY a.seq DESC LIMIT 1"""
    )
    return (_menu(row), row["activated_at"]) if row else None


# ---- call legs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCallLeg:
    """A call leg's row; each step of the call replaces it. The caller's number stays sealed."""

    id: uuid.UUID
    call_sid: str
    caller_enc: str | None
    called_number: str | None
    menu_id: uuid.UUID | None
    started_at: datetime
    prompts: int
    digit: str | None
    topic: str | None
    chosen_at: datetime | None
    desk_organisation_id: uuid.UUID | None
    routed_to: str | None
    route_reason: str | None
    dial_status: str | None
    dial_duration_s: int | None
    ended_at: datetime | None
    consultation_id: uuid.UUID | None
    completed_by: str | None
    completed_at: datetime | None
    purged_at: datetime | None


_LEG_FIELDS = [f.name for f in fields(StoredCallLeg)]
_LEG_COLUMNS = ", ".join(_LEG_FIELDS)


async def insert_call_leg(conn: asyncpg.Connection, *, leg: StoredCallLeg) -> bool:
    """False if the provider already told us about this call (a retry or a replay)."""
    placeholders = ", ".join(f"${i}" for i in range(1, len(_LEG_FIELDS) + 1))
    inserted = await conn.fetchval(
        f"""INSERT INTO call_legs ({_LEG_COLUMNS}) VALUES ({placeholders})
            ON CONFLICT (call_sid) DO NOTHING RETURNING true""",
        *asdict(leg).values(),
    )
    return bool(inserted)


async def update_call_leg(conn: asyncpg.Connection, *, leg: StoredCallLeg) -> None:
    names = [n for n in _LEG_FIELDS if n not in ("id", "call_sid", "started_at")]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE call_legs SET {assignments} WHERE id = $1", leg.id, *[getattr(leg, n) for n in names]
    )


async def get_call_leg(
    conn: asyncpg.Connection,
    *,
    leg_id: uuid.UUID | None = None,
    call_sid: str | None = None,
    for_update: bool = False,
) -> StoredCallLeg | None:
    lock = " FOR UPDATE" if for_update else ""
    if leg_id is not None:
        row = await conn.fetchrow(f"SELECT {_LEG_COLUMNS} FROM call_legs WHERE id = $1{lock}", leg_id)
    else:
        row = await conn.fetchrow(f"SELECT {_LEG_COLUMNS} FROM call_legs WHERE call_sid = $1{lock}", call_sid)
    return StoredCallLeg(**dict(row)) if row else None


async def list_open_call_legs(
    conn: asyncpg.Connection, *, topic: str | None, limit: int
) -> list[StoredCallLeg]:
    rows = await conn.fetch(
        f"""SELECT {_LEG_COLUMNS} FROM call_legs
             WHERE consultation_id IS NULL AND purged_at IS NULL AND ($1::text IS NULL OR topic = $1)
             ORDER BY started_at DESC LIMIT $2""",
        topic,
        limit,
    )
    return [StoredCallLeg(**dict(r)) for r in rows]
