"""referral's own route dependencies: the lifecycle and the link verifier main.py puts on the app.
The pool and the roles are eventkit.deps'."""

from typing import Annotated

from fastapi import Depends

from eventkit.deps import app_state
from eventkit.links import LinkVerifier
from referral.lifecycle.service import Lifecycle

CurrentLifecycle = Annotated[Lifecycle, Depends(app_state("lifecycle"))]
Links = Annotated[LinkVerifier, Depends(app_state("link_verifier"))]
