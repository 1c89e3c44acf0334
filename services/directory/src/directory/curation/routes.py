"""The register's search and confirmation over HTTP: query parameters → `RegisterQuery` → use case.

`/v1/organisations/search` is declared before the register's `/v1/organisations/{id}` (main.py
includes this router first), so that "search" is never read as an id.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Query

from contracts.municipality import MunicipalityCode
from contracts.vocabulary import Topic
from directory.curation import service
from directory.curation.domain import TEXT_MAX, RegisterQuery
from directory.deps import Ctx
from directory.paging import Page, Paging
from directory.register.domain import Capability, OrgType
from directory.register.models import OrganisationOut
from eventkit.deps import OperatorOrPartner, Pool, Staff
from eventkit.routing import api_router
from eventkit.text import MAX_POSITION, Line

router = api_router(tags=["organisations"])


async def register_query(
    context: Ctx,
    q: Annotated[
        Line | None,
        Query(
            max_length=TEXT_MAX,
            description="In the name or alternate name (width- and case-blind), or a whole id or 法人番号.",
        ),
    ] = None,
    municipality_code: Annotated[
        MunicipalityCode | None,
        Query(description="Only those with a service reaching it (exactly, its city, prefecture, or JP)."),
    ] = None,
    prefecture: Annotated[
        str | None,
        Query(pattern=r"^(0[1-9]|[1-3][0-9]|4[0-7])$", description="Reaching somewhere in it (or JP)."),
    ] = None,
    org_type: Annotated[OrgType | None, Query()] = None,
    capability: Annotated[
        list[Capability] | None, Query(description="Repeatable: one service must have them all.")
    ] = None,
    topic: Annotated[Topic | None, Query(description="Only those that take this topic.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false).")] = None,
    stale: Annotated[
        bool | None, Query(description="true: entries due for confirmation; false: confirmed recently.")
    ] = None,
) -> RegisterQuery:
    return RegisterQuery(
        text=q,
        area=service.area_of(context, municipality_code),
        prefecture=prefecture,
        org_type=org_type,
        capabilities=frozenset(capability or ()),
        topic=topic,
        active=active,
        stale=stale,
    )


Found = Annotated[RegisterQuery, Depends(register_query)]


@router.get("/organisations/search")
async def search_organisations(
    _: Staff,
    pool: Pool,
    context: Ctx,
    paging: Paging,
    query: Found,
) -> Page[OrganisationOut]:
    """Search the whole register: by name, area, type, capability, topic, state, staleness

    HSDS paging (`page`, `per_page`; `total_items` counts every match), by name then id.
    """
    found = await service.search(pool, context=context, query=query, page=paging)
    return Page[OrganisationOut].of(found.map(OrganisationOut.of))


@router.get("/organisations", summary="List organisations by name (the filters of /organisations/search)")
async def list_organisations(
    _: Staff,
    pool: Pool,
    context: Ctx,
    query: Found,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
) -> list[OrganisationOut]:
    found = await service.search_window(pool, context=context, query=query, limit=limit, offset=offset)
    return [OrganisationOut.of(record) for record in found]


@router.post("/organisations/{organisation_id}/verification")
async def verify_organisation(
    organisation_id: uuid.UUID, principal: OperatorOrPartner, pool: Pool, context: Ctx
) -> OrganisationOut:
    """Record that the entry was confirmed with the organisation now (a partner: its own)

    Sets `last_verified_at` (and `_by`); logged in the change log as `verify`.
    """
    record = await service.verify(pool, context=context, principal=principal, organisation_id=organisation_id)
    return OrganisationOut.of(record)
