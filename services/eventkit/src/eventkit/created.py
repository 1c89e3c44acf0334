"""The status of a create-or-replace: 201 when the request made the resource, 200 when it was
already there (a retried request, or a replacement), and `Location` naming it."""

from fastapi import Response


def answer_created(response: Response, *, created: bool, location: str | None = None) -> None:
    """For a route declared with `status_code=201`."""
    if not created:
        response.status_code = 200
    if location is not None:
        response.headers["Location"] = location
