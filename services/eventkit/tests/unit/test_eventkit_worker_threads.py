"""`in_worker_threads` finds what FastAPI would hand to its thread pool on every request."""

from typing import Annotated

from fastapi import Depends, FastAPI

from eventkit.inputprobe import in_worker_threads


def plain_dependency() -> int:
    return 1


async def async_dependency(n: Annotated[int, Depends(plain_dependency)]) -> int:
    return n


class AnAsyncInstance:
    async def __call__(self) -> int:
        return 2


def test_plain_def_endpoints_and_dependencies_are_found_however_deep_and_async_ones_are_not() -> None:
    app = FastAPI()

    @app.get("/plain")
    def plain(n: Annotated[int, Depends(async_dependency)]) -> int:
        return n

    @app.get("/async")
    async def fine(n: Annotated[int, Depends(AnAsyncInstance())]) -> int:
        return n

    assert in_worker_threads(app) == [
        "/plain: test_plain_def_endpoints_and_dependencies_are_found_however_deep_and_async_ones_are_not.<locals>.plain",
        f"{__name__}.plain_dependency",
    ]
