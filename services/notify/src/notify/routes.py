"""notify's HTTP edge, one router per sub-domain: partners' webhook secrets, deliveries, the portal
inbox, on-call paging. main.py serves this router; see each sub-package's routes.py."""

from fastapi import APIRouter

from notify.alerts import routes as alerts
from notify.deliveries import routes as deliveries
from notify.paging import routes as paging
from notify.partners import routes as partners

router = APIRouter()
for part in (partners.router, deliveries.router, alerts.router, paging.router):
    router.include_router(part)
