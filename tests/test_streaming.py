"""Issue 14 §3 (memory): slug and name lookups, `accept --all`, `--wait` and the menus read the
listing page by page and keep only what they need. Through the real entry point against the
sandbox, these tests assert which pages were requested (a lookup stops once every ref is settled,
`accept --all` stops at its cap) and that answers are those of reading everything. The memory
figures are in benchmarks/hostile.py; no test measures memory or time."""

from __future__ import annotations

import json
import random
import re
from difflib import get_close_matches

import pytest

from memberships_cli.models import INVITATION_STATUSES, Membership
from memberships_cli.operations import MAX_ACCEPT_ALL, close_matches
from memberships_cli.sandbox import seed

LIST = "/me/memberships"
ACME = seed.org_id("acme-logistics")
SEEDED = len(seed.memberships())
INVITED = [m["organization"]["slug"] for m in seed.memberships() if m["status"] == "invited"]


def list_requests(sandbox) -> list[dict]:
    return [q for q in sandbox.requests if q["method"] == "GET" and q["path"] == LIST]


def paths(sandbox) -> list[tuple[str, str]]:
    return [(q["method"], q["path"]) for q in sandbox.requests]


def ten_pages(sandbox, status: str = "active") -> list[str]:
    """1,000 memberships: the seed, then generated ones; the last is generated-org-00965."""
    return sandbox.store.add_generated(1000 - SEEDED, status)


def page_of_invitation(sandbox, number: int) -> int:
    """The page (from 1) holding the `number`th invitation in listing order."""
    positions = [i for i, m in enumerate(sandbox.store.all()) if m["status"] in INVITATION_STATUSES]
    return positions[number - 1] // 100 + 1


# -- slug and name lookups -----------------------------------------------------------------------


def test_a_slug_on_the_last_page_is_found_after_reading_every_page(cli, sandbox):
    ids = ten_pages(sandbox)
    r = cli("show", "generated-org-00965", "--json")
    assert r.code == 0, r
    assert json.loads(r.stdout)["organization"]["id"] == ids[-1]
    assert paths(sandbox) == [("GET", LIST)] * 10 + [("GET", f"{LIST}/{ids[-1]}")]
    tokens = [q["query"].get("pageToken") for q in list_requests(sandbox)]
    assert tokens[0] is None and len(set(tokens[1:])) == 9


def test_a_slug_on_the_first_page_stops_the_lookup_there(cli, sandbox):
    ten_pages(sandbox)
    r = cli("show", "acme-logistics", "--json")
    assert r.code == 0, r
    assert json.loads(r.stdout)["organization"]["id"] == ACME
    assert paths(sandbox) == [("GET", LIST), ("GET", f"{LIST}/{ACME}")]


def test_several_refs_read_until_the_last_is_settled(cli, sandbox):
    ids = ten_pages(sandbox)
    r = cli("leave", "acme-logistics", "generated-org-00500", "--dry-run", "--json")
    assert r.code == 0, r
    assert [(o["organizationId"], o["result"]) for o in json.loads(r.stdout)] == [
        (ACME, "would-leave"), (ids[500], "would-leave")]
    # generated-org-00500 is membership 535 of 1,000: on page 6
    assert len(list_requests(sandbox)) == 6
    sandbox.clear_requests()
    r = cli("leave", "acme-logistics", "globex-retail", "--dry-run", "--json")
    assert r.code == 0, r
    assert len(list_requests(sandbox)) == 1


def test_an_id_found_in_the_listing_settles_it_and_a_missing_one_reads_on(cli, sandbox):
    ids = ten_pages(sandbox)
    r = cli("accept", ACME, "acme-logistics", "--dry-run", "--json")
    assert r.code == 0, r
    assert [o["result"] for o in json.loads(r.stdout)] == ["already-active", "already-active"]
    assert paths(sandbox) == [("GET", LIST)]  # both known from the first page: no GET of one
    sandbox.clear_requests()
    r = cli("accept", ids[-1], "acme-logistics", "--dry-run", "--json")
    assert r.code == 0, r
    assert len(list_requests(sandbox)) == 10


def test_a_slug_in_another_case_does_not_stop_the_lookup(cli, sandbox):
    """Only a slug as typed settles a ref: "ACME" could still meet an organization whose slug is
    exactly that further on."""
    ten_pages(sandbox)
    r = cli("show", "ACME-LOGISTICS", "--json")
    assert r.code == 0, r
    assert json.loads(r.stdout)["organization"]["id"] == ACME
    assert len(list_requests(sandbox)) == 10


def test_a_name_reads_every_page_and_a_twin_on_the_last_is_still_ambiguous(cli, sandbox):
    ten_pages(sandbox)
    r = cli("show", "Acme Logistics", "--json")
    assert r.code == 0, r
    assert len(list_requests(sandbox)) == 10
    twin = json.loads(json.dumps(seed.memberships()[0]))
    twin["organization"].update(id="11111111-1111-4111-8111-111111111111", slug="acme-two")
    sandbox.store.add(twin)  # membership 1,001: alone on page 11
    sandbox.clear_requests()
    r = cli("show", "Acme Logistics")
    assert r.code == 2, r
    assert r.stderr == (f"error: 'Acme Logistics' matches 2 organizations: acme-logistics ({ACME}), acme-two "
                        "(11111111-1111-4111-8111-111111111111); name one by its slug or id\n")
    assert paths(sandbox) == [("GET", LIST)] * 11


def test_an_ambiguous_name_names_ten_and_counts_the_rest(cli, sandbox):
    for n in range(12):
        twin = json.loads(json.dumps(seed.memberships()[0]))
        twin["organization"].update(id=f"11111111-1111-4111-8111-{n:012d}", slug=f"acme-{n}")
        sandbox.store.add(twin)
    r = cli("show", "Acme Logistics")
    assert r.code == 2, r
    assert "'Acme Logistics' matches 13 organizations: acme-logistics (" in r.stderr
    assert "acme-8 (11111111-1111-4111-8111-000000000008) and 3 more; name one by its slug or id" in r.stderr
    assert "acme-9" not in r.stderr


def test_did_you_mean_after_reading_every_page(cli, sandbox):
    ten_pages(sandbox)
    r = cli("show", "generated-org-0096")
    assert r.code == 3, r
    assert r.stderr == (
        "error: no membership or invitation matches 'generated-org-0096' (by id, slug or name); did you mean "
        "`generated-org-00960`, `generated-org-00961` or `generated-org-00962`? (run `memberships list` to see "
        "your organizations)\n")
    assert paths(sandbox) == [("GET", LIST)] * 10


def test_accept_wait_stops_its_look_at_the_page_that_settles_it(cli, sandbox):
    ten_pages(sandbox)
    r = cli("accept", "globex-retail", "--wait", "30s", "--dry-run", "--json")
    assert r.code == 0, r
    assert [o["result"] for o in json.loads(r.stdout)] == ["would-accept"]
    assert paths(sandbox) == [("GET", LIST)]  # the invitation is known from the listing: no GET


# -- accept --all ----------------------------------------------------------------------------------


def test_accept_all_over_the_cap_accepts_nothing_and_stops_reading(cli, sandbox):
    sandbox.store.add_generated(1100, "invited")
    r = cli("accept", "--all", "--json")
    assert r.code == 2, r
    assert r.stdout == ""
    assert r.stderr == (f"error: more than {MAX_ACCEPT_ALL:,} pending invitations; nothing was accepted; accept them "
                        f"in parts of at most {MAX_ACCEPT_ALL:,} with --match GLOB (e.g. --match 'a*'), or name them\n")
    assert paths(sandbox) == [("GET", LIST)] * page_of_invitation(sandbox, MAX_ACCEPT_ALL + 1)
    assert page_of_invitation(sandbox, MAX_ACCEPT_ALL + 1) < (SEEDED + 1100 + 99) // 100


def test_accept_all_at_the_cap_and_with_match_under_it(cli, sandbox):
    sandbox.store.add_generated(MAX_ACCEPT_ALL - len(INVITED), "invited")
    r = cli("accept", "--all", "--dry-run", "--json")
    assert r.code == 0, r
    outcomes = json.loads(r.stdout)
    assert len(outcomes) == MAX_ACCEPT_ALL and {o["result"] for o in outcomes} == {"would-accept"}
    assert [o["organization"] for o in outcomes[:len(INVITED)]] == INVITED  # listing order
    assert paths(sandbox) == [("GET", LIST)] * 11  # 1,027 memberships, nothing but the listing
    sandbox.store.add_generated(1, "invited")
    assert cli("accept", "--all", "--dry-run", "--json").code == 2
    r = cli("accept", "--all", "--match", "generated-org-009*", "--dry-run", "--json")
    assert r.code == 0, r
    assert [o["organization"] for o in json.loads(r.stdout)] == [f"generated-org-{n:05d}" for n in range(900, 994)]


def test_accept_all_keeps_the_invitations_from_every_page(cli, sandbox):
    ids = ten_pages(sandbox, "active")
    late = sandbox.store.add_generated(3, "invited")
    r = cli("accept", "--all", "--json")
    assert r.code == 0, r
    assert [o["organizationId"] for o in json.loads(r.stdout)] == [seed.org_id(s) for s in INVITED] + late
    assert ids and len(list_requests(sandbox)) == 11


# -- menus -----------------------------------------------------------------------------------------


def test_a_menu_offers_the_first_500_and_says_so(cli, sandbox):
    sandbox.store.add_generated(600, "invited")
    r = cli("accept", tty=True, input="\n")
    assert r.code == 0, r
    menu = [line for line in r.stderr.splitlines() if re.match(r"\s+\d+\s", line)]
    assert len(menu) == 500
    assert "Only the first 500 are offered; name others by slug, e.g. `memberships accept SLUG`." in r.stderr
    assert "Nothing chosen: nothing was accepted." in r.stderr
    assert paths(sandbox) == [("GET", LIST)] * page_of_invitation(sandbox, 501)


def test_a_short_menu_has_no_note(cli, sandbox):
    r = cli("leave", tty=True, input="\n")
    assert r.code == 0, r
    assert "Only the first" not in r.stderr
    assert len(list_requests(sandbox)) == 1


# -- did-you-mean candidates kept in bounded memory: the same as from the whole list ------------------


def whole_list_close_matches(ref: str, memberships: list[Membership], limit: int = 3) -> list[Membership]:
    """close_matches' definition, computed over the whole list at once."""
    needle = ref.lower()
    keys: dict[str, Membership] = {}
    for m in memberships:
        for key in (m.slug.lower(), m.name.lower()):
            if key:
                keys.setdefault(key, m)
    contained = [k for k in keys if len(needle) >= 3 and needle in k]
    chosen: list[Membership] = []
    for key in contained + get_close_matches(needle, list(keys), n=limit, cutoff=0.8):
        if keys[key] not in chosen:
            chosen.append(keys[key])
    return chosen[:limit]


def membership(n: int, slug: str, name: str) -> Membership:
    return Membership({"organization": {"id": f"id-{n}", "slug": slug, "name": name}, "status": "active"})


@pytest.mark.parametrize("seed_value", range(5))
def test_streamed_close_matches_are_the_whole_lists(seed_value):
    rng = random.Random(seed_value)
    differences = []
    for _ in range(400):
        # Few letters, short words: many keys within difflib's 0.8 of each other, and repeats.
        words = ["".join(rng.choice("abcAB-") for _ in range(rng.randint(0, 7))) for _ in range(40)]
        listing = [membership(n, rng.choice(words), rng.choice(words)) for n in range(rng.randint(0, 60))]
        listing += rng.sample(listing, min(len(listing), 5))
        ref = rng.choice(words + ["abcab", "aab"]) or "abc"
        if close_matches(ref, listing) != whole_list_close_matches(ref, listing):
            differences.append(ref)
    assert differences == []


def test_streamed_close_matches_on_a_long_list():
    listing = [membership(p * 1000 + n, f"org-{p}-{n}", f"Organization {p}.{n}") for p in range(1, 201) for n in range(1, 101)]
    for ref in ("org-200-1000", "ORG-77-7x", "org-5", "organization 3.3", "qqqq"):
        assert close_matches(ref, listing) == whole_list_close_matches(ref, listing), ref
    assert [m.slug for m in close_matches("org-200-1000", listing)] == ["org-200-100", "org-200-10", "org-20-100"]
