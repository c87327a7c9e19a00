"""Unit tests of the pieces behind choices on a terminal: the menu's answer parser and the
"did you mean" candidates. The menus themselves are tested through the CLI (test_choices.py)."""

from __future__ import annotations

import pytest

from memberships_cli.errors import UsageError
from memberships_cli.models import Membership
from memberships_cli.operations import close_matches
from memberships_cli.output.menu import parse_choice
from memberships_cli.sandbox import seed


@pytest.mark.parametrize(
    "answer,chosen",
    [("", []), ("  ", []), ("none", []), ("1", [0]), ("1,3-5", [0, 2, 3, 4]), ("2 4", [1, 3]), ("5-3", [2, 3, 4]),
     ("1,1,2", [0, 1]), ("ALL", [0, 1, 2, 3, 4, 5]), (" 6 ", [5])],
)
def test_parse_choice(answer, chosen):
    assert parse_choice(answer, 6, several=True) == chosen


@pytest.mark.parametrize("answer,message", [("0", "0 is not on the list (1-6)"), ("7", "7 is not on the list (1-6)"),
                                            ("2-9", "2-9 is not on the list (1-6)"), ("x", "'x' is not a number"),
                                            ("1-", "'1-' is not a number"), ("-1", "'-1' is not a number")])
def test_parse_choice_refuses(answer, message):
    with pytest.raises(UsageError) as caught:
        parse_choice(answer, 6, several=True)
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize("answer", ["all", "1,2", "1-2"])
def test_a_single_pick_takes_one_number(answer):
    with pytest.raises(UsageError, match="pick one number"):
        parse_choice(answer, 6, several=False)
    assert parse_choice("3", 6, several=False) == [2]


MEMBERSHIPS = [Membership(m) for m in seed.memberships()]


@pytest.mark.parametrize(
    "ref,slugs",
    [("acme-logistic", ["acme-logistics"]), ("ACME", ["acme-logistics"]), ("globex retial", ["globex-retail"]),
     ("logistics", ["acme-logistics", "tokyo-logistics"]), ("zurich fintech", ["zurich-fintech-ag"]),
     ("qqqq", []), ("ab", [])],
)
def test_close_matches(ref, slugs):
    assert [m.slug for m in close_matches(ref, MEMBERSHIPS)] == slugs
