"""referral's HTTP edge, one router per sub-domain: reading referrals, the lifecycle's commands,
the acknowledgement link, the operators' reports. main.py serves this router; see each
sub-package's routes.py."""

from fastapi import APIRouter

from referral.acknowledgement import routes as acknowledgement
from referral.lifecycle import routes as lifecycle
from referral.reports import routes as reports
from referral.views import routes as views

router = APIRouter()
# Reads first: /v1/referrals/overdue must be matched before /v1/referrals/{referral_id}.
for part in (views.router, lifecycle.router, acknowledgement.router, reports.router):
    router.include_router(part)
