"""Files an endpoint answers for download: CSV that Excel opens with the Japanese intact."""

import csv
import io
from collections.abc import Iterable, Mapping

from fastapi import Response


def _cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ would otherwise run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows as CSV with CRLF line ends, every cell through the formula guard (`_cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def csv_download(
    rows: Iterable[Iterable[object]], *, filename: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The rows as UTF-8 CSV with a byte order mark (without it, Excel reads Japanese as mojibake)
    and CRLF line ends, as an attachment named `filename`. No cell starts a formula (`_cell`)."""
    return Response(
        content=("\ufeff" + csv_text(rows)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
