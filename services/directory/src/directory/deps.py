"""directory's own route dependency: the context main.py builds (the pool and roles are eventkit's)."""

from typing import Annotated

from fastapi import Depends

from directory.context import Context
from eventkit.deps import app_state

Ctx = Annotated[Context, Depends(app_state("context"))]
