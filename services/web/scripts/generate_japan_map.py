"""Generate the map of Japan's 47 prefectures (src/web/static/japan.svg) from japanmap's vector data.

    .venv/bin/pip install --no-deps 'japanmap==0.6.0' && .venv/bin/pip install numpy
    .venv/bin/python services/web/scripts/generate_japan_map.py [--check]

japanmap (PyPI, Apache-2.0) ships the prefectures' boundaries as one shared set of border
polylines, with Hokkaido and Okinawa movable into the usual insets. Its full outlines are
simplified here (Douglas–Peucker, each shared border once, so that neighbours still meet
exactly): 18 KB instead of 74 KB, and much closer to the coast than its own `rough=True` set.
It is installed `--no-deps` because it declares opencv and Pillow for its raster maps, which this
script does not use (its module imports numpy, hence that one). japanmap is **not** a run-time
dependency: the screens read only the committed SVG this script writes.

One `<path id="pref-01">` … `<path id="pref-47">` per prefecture (JIS X 0401 code), each with a
`<title>` of its name, inside a group that draws the borders; no fill of its own, so a page that
inlines the paths colours them. japanmap's outlines are of each prefecture's main area (the one
with its capital): small islands are not drawn. Okinawa, moved next to Kyushu, is framed as an
inset. `--check` regenerates in memory and fails if the committed file differs.
"""

import argparse
import math
import sys
from pathlib import Path

from contracts.municipality import register

OUTPUT = Path(__file__).resolve().parents[1] / "src" / "web" / "static" / "japan.svg"
WIDTH = 1000.0
# Degrees of longitude are shorter than degrees of latitude: cos(36°) ≈ 0.812 (japanmap's own ratio).
ASPECT = 0.812
MARGIN = 10.0
OKINAWA = 47
# Border points closer than this (degrees: three units of the 1000-wide map, under two pixels as
# the screen draws it) to the line through their neighbours are dropped.
TOLERANCE = 0.03


def _outlines(tolerance: float) -> list[list[tuple[float, float]]]:
    """Each prefecture's outline as (longitude, latitude) points, its borders simplified."""
    try:
        from japanmap import get_data, pref_names
    except ImportError:
        sys.exit("japanmap is missing: see this script's docstring for how to install it")
    points, borders = get_data(move_hokkaido=True, move_okinawa=True, rough=False)
    expected = [p.name for _, p in sorted(register().prefectures.items())]
    if pref_names[1:] != expected:
        sys.exit("japanmap's prefecture order differs from the contracts' register: check the codes")
    coordinates = [(float(p[0][0]), float(p[0][1])) for p in points]
    # Two neighbours share each border (as one list of point indices); keeping a point for both
    # at once keeps their shared edge identical, so no gap or overlap opens between them.
    keep: set[int] = set()
    for prefecture in borders:
        for _, indices in prefecture:
            keep |= _simplify(indices, coordinates, tolerance)
    return [
        [coordinates[i] for _, indices in prefecture for i in indices if i in keep] for prefecture in borders
    ]


def _simplify(indices: list[int], coordinates: list[tuple[float, float]], tolerance: float) -> set[int]:
    """Douglas–Peucker on the projected plane: the indices of the points worth keeping."""

    def xy(i: int) -> tuple[float, float]:
        return coordinates[i][0] * ASPECT, coordinates[i][1]

    kept = {indices[0], indices[-1]}
    stack = [(0, len(indices) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = xy(indices[first]), xy(indices[last])
        length = math.hypot(x2 - x1, y2 - y1)
        far, distance = -1, tolerance
        for k in range(first + 1, last):
            x, y = xy(indices[k])
            if length == 0:
                d = math.hypot(x - x1, y - y1)
            else:
                d = abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length
            if d > distance:
                far, distance = k, d
        if far >= 0:
            kept.add(indices[far])
            stack += [(first, far), (far, last)]
    return kept


def _fmt(value: float) -> str:
    return str(round(value))


def build(tolerance: float = TOLERANCE) -> str:
    outlines = _outlines(tolerance)
    xs = [x * ASPECT for outline in outlines for x, _ in outline]
    ys = [-y for outline in outlines for _, y in outline]
    scale = (WIDTH - 2 * MARGIN) / (max(xs) - min(xs))
    height = (max(ys) - min(ys)) * scale + 2 * MARGIN

    def point(lon: float, lat: float) -> tuple[float, float]:
        return (lon * ASPECT - min(xs)) * scale + MARGIN, (-lat - min(ys)) * scale + MARGIN

    prefectures = register().prefectures
    paths = []
    for number, outline in enumerate(outlines, start=1):
        code = f"{number:02d}"
        # Consecutive points that round to the same one (and a border's shared end) say nothing.
        rounded = dict.fromkeys(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(lon, lat) for lon, lat in outline))
        d = "M" + " L".join(rounded) + " Z"
        paths.append(f'<path id="pref-{code}" d="{d}"><title>{prefectures[code].name}</title></path>')
    inset = [point(lon, lat) for lon, lat in outlines[OKINAWA - 1]]
    left, right = min(x for x, _ in inset) - 12, max(x for x, _ in inset) + 12
    top, bottom = min(y for _, y in inset) - 12, max(y for _, y in inset) + 12
    frame = (
        f'<rect class="inset" x="{_fmt(left)}" y="{_fmt(top)}" width="{_fmt(right - left)}" '
        f'height="{_fmt(bottom - top)}" fill="none" stroke="#8a94a6" stroke-dasharray="6 4"/>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_fmt(WIDTH)} {_fmt(height)}">\n'
        "<!-- Generated by services/web/scripts/generate_japan_map.py from japanmap 0.6.0 "
        "(Apache-2.0). Do not edit. -->\n"
        f"{frame}\n"
        '<g id="prefectures" stroke="#ffffff" stroke-width="1.5" stroke-linejoin="round">\n'
        + "\n".join(paths)
        + "\n</g>\n</svg>\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = parser.parse_args()
    text = build()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUTPUT.name} is stale: run {Path(__file__).name}")
        print("the map of Japan is up to date")  # noqa: T201
        return
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(text.encode()):,} bytes)")  # noqa: T201


if __name__ == "__main__":
    main()
