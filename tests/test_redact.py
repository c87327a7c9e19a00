"""The scrubber: every form in which a server can echo the token, and nothing else, becomes [token]."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest

from memberships_cli.redact import PLACEHOLDER, Scrubber, scrub_all

TOKEN = "tok+en/abc==xyz"


def lower_hex(text: str) -> str:
    """Percent-escapes with lower-case hex digits: %2B -> %2b."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "%":
            out.append(text[i : i + 3].lower())
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


FORMS = {
    "raw": TOKEN,
    "percent-encoded, upper-case hex": quote(TOKEN, safe=""),
    "percent-encoded, lower-case hex": lower_hex(quote(TOKEN, safe="")),
    "form-encoded": quote_plus(TOKEN),
    "path-encoded (/ kept)": quote(TOKEN),
    "mixed": "tok%2ben/abc%3D=xyz",
    "+ read back as a space": TOKEN.replace("+", " "),
    "every character escaped": "".join(f"%{b:02x}" for b in TOKEN.encode()),
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_form_of_the_token_is_cut_out(form):
    text = f"401 Unauthorized Bearer {form}; see https://x.example/?t={form}&u=1"
    assert Scrubber(TOKEN).text(text) == f"401 Unauthorized Bearer {PLACEHOLDER}; see https://x.example/?t={PLACEHOLDER}&u=1"


def test_a_space_in_a_token_also_matches_its_plus_form():
    assert Scrubber("a b").text("a+b a%20b a b") == " ".join([PLACEHOLDER] * 3)


@pytest.mark.parametrize("text", ["tok+en/abc==xy", "TOK+EN/ABC==XYZ", "tok-en/abc==xyz", "tok%2Xen/abc==xyz", ""])
def test_text_that_is_not_the_token_is_left_alone(text):
    scrubber = Scrubber(TOKEN)
    assert scrubber.text(text) == text
    assert not scrubber.found(text)


@pytest.mark.parametrize("form", [*FORMS.values(), "tok\\u002ben\\/abc==xyz", "\\u0074ok+en/abc==xyz"],
                         ids=[*FORMS.keys(), "JSON-escaped + and /", "JSON-escaped first letter"])
def test_a_body_holding_any_form_is_walked(form):
    import json

    body = ('{"results": [{"organization": {"name": "' + form + '"}}]}').encode()
    scrubber = Scrubber(TOKEN)
    assert scrubber.may_hold(body)
    assert scrubber.json(json.loads(body)) == {"results": [{"organization": {"name": PLACEHOLDER}}]}


@pytest.mark.parametrize("body", [b'{"n": "acme"}', b'{"n": "tok en/abc=", "u": "\\u001b %41"}', b'{"n": "caf\\u00e9"}'])
def test_an_ordinary_body_is_not_walked(body):
    assert not Scrubber(TOKEN).may_hold(body)


def test_json_values_are_scrubbed_keys_too_and_untouched_values_are_not_copied():
    scrubber = Scrubber(TOKEN)
    clean = {"results": [{"organization": {"id": "x", "name": "Acme"}}], "n": 1}
    assert scrubber.json(clean) is clean
    dirty = {"results": [{"organization": {"name": f"x {TOKEN}"}}], TOKEN: [1, None, True, quote(TOKEN)]}
    assert scrubber.json(dirty) == {"results": [{"organization": {"name": "x [token]"}}], "[token]": [1, None, True, "[token]"]}
    assert dirty[TOKEN][3] == quote(TOKEN)  # the original is not changed


def test_no_secret_changes_nothing():
    assert not Scrubber(None) and not Scrubber("")
    assert Scrubber(None).text("anything") == "anything"
    assert scrub_all(f"a {TOKEN} b", [None, "", TOKEN]) == "a [token] b"
