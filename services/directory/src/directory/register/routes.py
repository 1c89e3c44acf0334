"""The register's HTTP edge: organisations, services, capacity reports and offices.

Request model → service call → response model; who may change what is the service's to check.
"""

import uuid

from fastapi import Response

from directory.deps import Ctx
from directory.hsds.mapping import location_to_hsds
from directory.hsds.models import LocationIO
from directory.register import service
from directory.register.models import (
    CapacityIn,
    LocationIn,
    OrganisationIn,
    OrganisationOut,
    ServiceIn,
    ServiceOut,
)
from eventkit.created import answer_created
from eventkit.deps import AnyRole, Operator, OperatorOrPartner, Pool
from eventkit.routing import api_router

router = api_router()

# ---- organisations ----------------------------------------------------------------------------


@router.put("/organisations/{organisation_id}", status_code=201, tags=["organisations"])
async def put_organisation(
    organisation_id: uuid.UUID,
    body: OrganisationIn,
    principal: Operator,
    pool: Pool,
    context: Ctx,
    response: Response,
) -> OrganisationOut:
    """Register or replace an organisation (and its main service) under a known id

    201 when it was created, 200 when an existing one was replaced (every field but capacity).
    """
    organisation, main = body.to_domain(organisation_id)
    record, created = await service.put_organisation(
        pool, context=context, principal=principal, organisation=organisation, main_service=main
    )
    answer_created(response, created=created)
    return OrganisationOut.of(record)


@router.post(
    "/organisations",
    status_code=201,
    tags=["organisations"],
    summary="Register an organisation under a new id",
)
async def create_organisation(
    body: OrganisationIn, principal: Operator, pool: Pool, context: Ctx, response: Response
) -> OrganisationOut:
    organisation, main = body.to_domain(uuid.uuid4())
    record, _ = await service.put_organisation(
        pool, context=context, principal=principal, organisation=organisation, main_service=main
    )
    response.headers["Location"] = f"/v1/organisations/{record.organisation.id}"
    return OrganisationOut.of(record)


@router.get(
    "/organisations/{organisation_id}",
    tags=["organisations"],
    summary="Read one organisation (a partner: only its own)",
)
async def get_organisation(
    organisation_id: uuid.UUID, principal: AnyRole, pool: Pool, context: Ctx
) -> OrganisationOut:
    record = await service.get_organisation(
        pool, context=context, principal=principal, organisation_id=organisation_id
    )
    return OrganisationOut.of(record)


@router.delete("/organisations/{organisation_id}", status_code=204, tags=["organisations"])
async def delete_organisation(organisation_id: uuid.UUID, principal: Operator, pool: Pool) -> Response:
    """Deactivate an organisation

    Soft delete: it stays readable and keeps its past matches, but is never matched again.
    """
    await service.deactivate_organisation(pool, principal=principal, organisation_id=organisation_id)
    return Response(status_code=204)


# ---- services and capacity --------------------------------------------------------------------


@router.put("/services/{service_id}", status_code=201, tags=["services"])
async def put_service(
    service_id: uuid.UUID, body: ServiceIn, principal: OperatorOrPartner, pool: Pool, response: Response
) -> ServiceOut:
    """Register or replace a service (a partner: only its own organisation's)

    201 created, 200 replaced. Capacity is kept: it changes through /capacity and handoffs.
    """
    saved, created = await service.put_service(pool, principal=principal, service=body.to_domain(service_id))
    answer_created(response, created=created)
    return ServiceOut.of(saved)


@router.get("/services/{service_id}", tags=["services"], summary="Read one service")
async def get_service(service_id: uuid.UUID, principal: AnyRole, pool: Pool) -> ServiceOut:
    return ServiceOut.of(await service.get_service(pool, principal=principal, service_id=service_id))


@router.delete(
    "/services/{service_id}", status_code=204, tags=["services"], summary="Set a service's status to inactive"
)
async def delete_service(service_id: uuid.UUID, principal: Operator, pool: Pool) -> Response:
    await service.deactivate_service(pool, principal=principal, service_id=service_id)
    return Response(status_code=204)


@router.put(
    "/services/{service_id}/capacity",
    tags=["services"],
    summary="Report a service's available capacity (HSDS service_capacity); a partner: its own",
)
async def report_capacity(
    service_id: uuid.UUID, body: CapacityIn, principal: OperatorOrPartner, pool: Pool, context: Ctx
) -> ServiceOut:
    report = body.to_domain(context.clock())
    saved = await service.report_capacity(pool, principal=principal, service_id=service_id, capacity=report)
    return ServiceOut.of(saved)


# ---- locations --------------------------------------------------------------------------------


@router.put(
    "/locations/{location_id}",
    tags=["services"],
    summary="Register or replace an organisation's office and the services offered there",
)
async def put_location(
    location_id: uuid.UUID, body: LocationIn, principal: Operator, pool: Pool
) -> LocationIO:
    saved = await service.put_location(pool, principal=principal, location=body.to_domain(location_id))
    return location_to_hsds(saved)
