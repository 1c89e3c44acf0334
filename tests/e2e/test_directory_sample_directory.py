"""The run command's sample directory is loaded, and the running directory matches against it."""

from conftest import System


def test_the_sample_directory_is_loaded_and_loading_it_again_changes_nothing(system: System) -> None:
    system.stack.seed_sample_data()  # what `make up` does; the second load must be a no-op

    with system.client("directory", "counsellor") as directory:
        page = directory.get("/v1/organizations", params={"search": "【サンプル】", "per_page": 1}).json()
        tokyo = directory.get(
            "/v1/organisations", params={"municipality_code": "131041", "limit": 500}
        ).json()
    with system.client("directory", "operator") as directory:
        again = directory.post("/v1/hsds/import", json=directory.get("/v1/hsds/export").json()).json()

    assert page["total_items"] >= 300
    assert any(o["name"] == "【サンプル】新宿区社会福祉協議会" for o in tokyo)
    assert again["changed_fields"] == 0


def test_a_dry_run_in_a_designated_city_ward_ranks_and_explains_sample_organisations(system: System) -> None:
    system.stack.seed_sample_data()
    needs = {
        "topic": "LONELY",
        "municipality_code": "271276",  # 大阪市北区
        "severity": "S3",
        "need_tags": ["ISO"],
        "at": "2026-01-01T03:00:00+09:00",  # New Year's night: public offices are closed
    }

    with system.client("directory", "counsellor") as directory:
        result = directory.post("/v1/match", json=needs).json()

    tiers = [c["tier"] for c in result["candidates"]]
    assert result["candidates"]
    # Local organisations (ward, city, prefecture) before national ones; within them what an
    # organisation can do comes before how close it is (the README's ranking table).
    local = [t != "national" for t in tiers]
    assert local == sorted(local, reverse=True)
    assert all(c["open_now"] is not False for c in result["candidates"])  # nobody known to be closed
    # 大阪市's public mental-health centre reaches its wards, but it keeps public-office hours
    # (none published) and New Year's night is the year-end closure: closed, not "open always".
    assert any(e["reason"] == "closed" for e in result["excluded"])
    with system.client("directory", "counsellor") as directory:
        weekday = directory.post("/v1/match", json=needs | {"at": "2026-01-07T10:00:00+09:00"}).json()
    assert "city" in [c["tier"] for c in weekday["candidates"]]
    assert all(c["reasons"] for c in result["candidates"])
    assert {e["reason"] for e in result["excluded"]} <= {
        "inactive", "unreachable", "out_of_area", "topic_not_handled", "not_eligible", "no_capacity", "closed",
    }  # fmt: skip
