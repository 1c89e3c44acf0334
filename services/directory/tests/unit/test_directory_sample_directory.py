"""The sample directory the run command loads: 300+ plainly fictional organisations, all of Japan."""

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from directory.geography.repository import load
from directory.hsds.mapping import from_hsds
from directory.hsds.models import RegisterIO
from directory.register.domain import Capability, OrgType

SAMPLE = Path(__file__).resolve().parents[4] / "deploy" / "local" / "sample"
DOCUMENT = json.loads((SAMPLE / "directory.hsds.json").read_text(encoding="utf-8"))
REGISTER = RegisterIO.model_validate(DOCUMENT)
NOW = datetime(2026, 3, 4, tzinfo=UTC)
LOADED = [from_hsds(org, now=NOW) for org in REGISTER.organizations]


def test_it_holds_at_least_300_organisations_marked_as_sample_data() -> None:
    assert len(LOADED) >= 300
    assert len({o.id for o, _, _ in LOADED}) == len(LOADED)
    assert all(o.name.startswith("【サンプル】") for o, _, _ in LOADED)


def test_it_covers_all_47_prefectures_with_real_municipality_codes() -> None:
    geo = load()
    entries = [e for _, services, _ in LOADED for s in services for e in s.coverage]

    prefectures = {e[:2] for e in entries if e != "JP"}
    assert prefectures == {f"{n:02d}" for n in range(1, 48)}
    municipalities = [e for e in entries if len(e) == 6]
    assert municipalities and all(geo.municipality(code) is not None for code in municipalities)
    assert any(geo.municipality(code).kind.value == "ward" for code in municipalities)  # type: ignore[union-attr]


def test_it_mixes_types_hours_languages_capacities_and_channels() -> None:
    services = [s for _, services, _ in LOADED for s in services]
    types = Counter(o.org_type for o, _, _ in LOADED)
    hours = Counter(
        "none" if not s.schedules else "24h" if any(r.round_the_clock for r in s.schedules) else "hours"
        for s in services
    )

    assert len(types) >= 8 and types[OrgType.NPO] > 0 and types[OrgType.WELFARE_OFFICE] > 0
    assert min(hours.values()) >= 5 and len(hours) == 3
    assert sum(1 for s in services if len(s.languages) > 1) >= 20
    assert sum(1 for s in services if Capability.MULTILINGUAL in s.capabilities) >= 20
    capacities = [s.capacity for s in services if s.capacity]
    assert len(capacities) >= 100 and any(c.available == 0 for c in capacities)
    channels = Counter(c for o, _, _ in LOADED for c in o.alert_channels)
    assert channels["webhook"] > 100 and channels["email"] > 50


def test_it_is_what_its_generator_writes() -> None:
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("generate_directory", SAMPLE / "generate_directory.py")
    assert spec and spec.loader
    module = module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.build() == DOCUMENT
