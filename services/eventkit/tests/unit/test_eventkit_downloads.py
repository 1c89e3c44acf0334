"""CSV downloads: Excel opens them with the Japanese intact and runs no cell as a formula."""

import csv
import io

import pytest

from eventkit.downloads import csv_download


@pytest.mark.parametrize("typed", ["=HYPERLINK(evil)", "+1+1", "-2+3", "@SUM(A1)", "\tlead", "\rlead"])
def test_a_cell_that_would_start_a_formula_is_written_as_text(typed: str) -> None:
    response = csv_download([["organisation"], [typed], ["新宿区"]], filename="x.csv")

    body = bytes(response.body)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows == [["organisation"], ["'" + typed], ["新宿区"]]


def test_the_download_is_utf8_csv_with_crlf_as_a_named_attachment_with_extra_headers() -> None:
    response = csv_download([["a", None, 3]], filename="r.csv", headers={"Cache-Control": "no-store"})

    assert bytes(response.body) == "\ufeffa,,3\r\n".encode()
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="r.csv"'
    assert response.headers["cache-control"] == "no-store"
