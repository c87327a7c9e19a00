"""Seed data and the SQLite store, without HTTP."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path

import pytest
from contract_schemas import validate
from sandbox_fixtures import sandbox_db, sandbox_store

from memberships_cli.sandbox import Store, default_db_path, seed
from memberships_cli.sandbox.store import (
    DB_ENV_VAR,
    DuplicateMembership,
    MembershipNotFound,
    NoPendingInvitation,
)

__all__ = ["sandbox_db", "sandbox_store"]

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
SEED = seed.memberships()


def ids(memberships: list[dict]) -> list[str]:
    return [m["organization"]["id"] for m in memberships]


# --- seed -----------------------------------------------------------------------------------------


def test_seed_is_deterministic_and_ids_are_uuid5_of_the_slug() -> None:
    assert seed.memberships() == SEED
    assert seed.user() == seed.user()
    acme = SEED[0]["organization"]
    assert acme["id"] == str(uuid.uuid5(seed.NAMESPACE, "organization:acme-logistics"))
    assert acme["id"] == "4abc1513-78ec-5ec6-a8ca-eb95cb45ffe2"
    for key in ("a", "generated-org-00042", "東京"):
        assert seed.stable_id("kind", key) == str(uuid.uuid5(seed.NAMESPACE, f"kind:{key}"))


def test_seed_has_at_least_30_distinct_organizations() -> None:
    assert len(SEED) >= 30
    assert len(set(ids(SEED))) == len(SEED)
    assert len({m["organization"]["slug"] for m in SEED}) == len(SEED)


def test_seed_mixes_statuses_with_one_unknown_value() -> None:
    statuses = Counter(m["status"] for m in SEED)
    assert set(statuses) == {"active", "invited", "banned", seed.UNKNOWN_STATUS}
    assert statuses["active"] > len(SEED) / 2
    assert statuses["invited"] >= 3
    assert 1 <= statuses["banned"] <= 2
    assert statuses[seed.UNKNOWN_STATUS] == 1


def test_seed_names_exercise_output_safety() -> None:
    names = [m["organization"]["name"] for m in SEED]
    assert seed.ANSI_NAME in names and "\x1b[" in seed.ANSI_NAME
    assert seed.MARKUP_NAME in names and "[bold" in seed.MARKUP_NAME
    for expected in ("Zürich Fintech AG", "東京ロジスティクス", "Café São Paulo"):
        assert expected in names
    assert any(re.search("[\u0600-\u06ff]", name) for name in names), "an Arabic (RTL) name"
    assert any(not name.isascii() and len(name.encode()) > 2 * len(name) for name in names)


def test_seed_covers_optional_fields_both_ways() -> None:
    def some_and_not_all(predicate) -> bool:
        hits = [predicate(m) for m in SEED]
        return any(hits) and not all(hits)

    assert some_and_not_all(lambda m: m.get("roleIds", "absent") is None)
    assert some_and_not_all(lambda m: "roleIds" in m)
    assert some_and_not_all(lambda m: "attributes" in m)
    assert some_and_not_all(lambda m: "avatarUrl" in m["organization"])
    assert some_and_not_all(lambda m: "managedBy" in m["organization"])
    assert some_and_not_all(lambda m: "statusReason" in m["organization"])
    assert some_and_not_all(lambda m: m["requiredMfaAuth"])
    assert some_and_not_all(lambda m: m["roleRefs"] == [])
    assert [m[seed.UNKNOWN_FIELD] for m in SEED if seed.UNKNOWN_FIELD in m] == [
        "unknown fields must survive"
    ]


def test_seed_timestamps_use_milliseconds_and_z_and_never_go_backwards() -> None:
    for m in SEED:
        stamps = [m["createdAt"], m["updatedAt"], m["organization"]["createdAt"]]
        assert all(TIMESTAMP.fullmatch(s) for s in stamps), stamps
        assert m["organization"]["createdAt"] <= m["createdAt"] <= m["updatedAt"]


def test_generated_memberships_are_numbered_from_start() -> None:
    made = seed.generated(3, status="active", start=41)
    assert [m["organization"]["name"] for m in made] == [
        "Generated Org 00041",
        "Generated Org 00042",
        "Generated Org 00043",
    ]
    assert made[1]["organization"]["slug"] == "generated-org-00042"
    assert made[1]["organization"]["id"] == seed.org_id("generated-org-00042")
    assert {m["status"] for m in made} == {"active"}
    assert seed.generated(3, start=41) == seed.generated(3, start=41)
    assert seed.generated(1)[0]["status"] == "invited"
    for m in made:
        validate("Membership", m)


# --- store ------------------------------------------------------------------------------------------


def test_a_fresh_file_seeds_itself_and_parent_dirs_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "sandbox.sqlite3"
    store = Store(path)
    try:
        assert path.exists()
        assert store.all() == SEED
        assert store.count() == len(SEED)
    finally:
        store.close()


def test_reopening_keeps_changes_instead_of_reseeding(sandbox_db: Path) -> None:
    store = Store(sandbox_db)
    for org_id in ids(SEED):
        store.leave(org_id)
    store.close()
    reopened = Store(sandbox_db)
    try:
        assert reopened.count() == 0
    finally:
        reopened.close()


def test_default_db_path_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DB_ENV_VAR, str(tmp_path / "custom.sqlite3"))
    assert default_db_path() == tmp_path / "custom.sqlite3"
    monkeypatch.delenv(DB_ENV_VAR)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = default_db_path()
    assert path.name == "sandbox.sqlite3"
    assert path.parent.name == "memberships-cli"


def test_list_page_cursor_walks_forward_and_backward(sandbox_store: Store) -> None:
    page, after = sandbox_store.list_page(None, False, None, 5)
    assert page == SEED[:5] and after is not None
    page, after = sandbox_store.list_page(None, False, after, 100)
    assert page == SEED[5:] and after is None
    page, after = sandbox_store.list_page(None, True, None, 4)
    assert page == SEED[-4:][::-1]
    page, _ = sandbox_store.list_page(None, True, after, 100)
    assert page == SEED[:-4][::-1]


def test_list_page_raw_returns_the_stored_text(sandbox_store: Store) -> None:
    bodies, _ = sandbox_store.list_page_raw("invited", False, None, 100)
    assert all(isinstance(body, str) for body in bodies)
    assert [seed_m for seed_m in SEED if seed_m["status"] == "invited"] == sandbox_store.list_page(
        "invited", False, None, 100
    )[0]
    assert '"status":"invited"' in bodies[0]


def test_accept_updates_status_and_timestamps(sandbox_store: Store) -> None:
    invited = next(m for m in SEED if m["status"] == "invited")
    accepted = sandbox_store.accept(invited["organization"]["id"])
    assert accepted["status"] == "active"
    assert TIMESTAMP.fullmatch(accepted["updatedAt"])
    assert accepted["updatedAt"] > invited["updatedAt"]
    assert accepted["organization"]["updatedAt"] == accepted["updatedAt"]
    assert sandbox_store.get(invited["organization"]["id"]) == accepted
    validate("Membership", accepted)


def test_accept_and_leave_refuse_what_the_state_does_not_allow(sandbox_store: Store) -> None:
    active = next(m for m in SEED if m["status"] == "active")["organization"]["id"]
    with pytest.raises(NoPendingInvitation):
        sandbox_store.accept(active)
    with pytest.raises(MembershipNotFound):
        sandbox_store.accept("missing")
    with pytest.raises(MembershipNotFound):
        sandbox_store.leave("missing")
    assert sandbox_store.all() == SEED


def test_add_appends_exactly_what_it_was_given(sandbox_store: Store) -> None:
    extra = {**seed.generated(1, start=90000)[0], "brandNewField": {"nested": [1, None]}}
    sandbox_store.add(extra)
    assert sandbox_store.all()[-1] == extra
    page, _ = sandbox_store.list_page(None, True, None, 1)
    assert page == [extra]
    with pytest.raises(DuplicateMembership):
        sandbox_store.add(extra)
    assert sandbox_store.count() == len(SEED) + 1


@pytest.mark.parametrize(
    "bad", [[], {"status": "active"}, {"organization": {"id": 5}, "status": "x"}, {"organization": {"id": "x"}}]
)
def test_add_rejects_records_without_id_or_status(sandbox_store: Store, bad: object) -> None:
    with pytest.raises(ValueError):
        sandbox_store.add(bad)  # type: ignore[arg-type]
    assert sandbox_store.count() == len(SEED)


def test_add_generated_continues_numbering_and_reset_restores_the_seed(sandbox_store: Store) -> None:
    first = sandbox_store.add_generated(2)
    second = sandbox_store.add_generated(3, status="active")
    assert first == [seed.org_id(f"generated-org-{n:05d}") for n in (0, 1)]
    assert second == [seed.org_id(f"generated-org-{n:05d}") for n in (2, 3, 4)]
    assert sandbox_store.count("invited") == Counter(m["status"] for m in SEED)["invited"] + 2
    sandbox_store.leave(ids(SEED)[0])
    sandbox_store.reset()
    assert sandbox_store.all() == SEED
    assert sandbox_store.add_generated(1) == first[:1]


def test_listing_ten_thousand_in_pages_of_100_sees_each_once(sandbox_store: Store) -> None:
    sandbox_store.add_generated(10_000)
    seen, after = 0, None
    while True:
        page, after = sandbox_store.list_page_raw(None, False, after, 100)
        seen += len(page)
        if after is None:
            break
    assert seen == 10_000 + len(SEED)
