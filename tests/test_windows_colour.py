"""Colour on Windows consoles: our SGR codes are written only after colorama has turned the
console's VT processing on; without colorama, no colour. Nothing here runs on Windows (no Windows
machine is at hand): these check the decision, with a stand-in colorama module."""

from __future__ import annotations

import sys
import types

import pytest

from memberships_cli.context import colour_wanted


@pytest.fixture
def fake_colorama(monkeypatch):
    calls = []
    module = types.ModuleType("colorama")
    module.just_fix_windows_console = lambda: calls.append("fixed")
    monkeypatch.setitem(sys.modules, "colorama", module)
    return calls


@pytest.mark.parametrize("environ", [{}, {"FORCE_COLOR": "1"}])
def test_a_windows_console_gets_vt_processing_before_colour(fake_colorama, environ):
    assert colour_wanted(True, False, environ, platform="win32") is True
    assert fake_colorama == ["fixed"]


@pytest.mark.parametrize("isatty, no_color_flag, environ, expected", [
    (False, False, {}, False),                      # piped: no colour, nothing to fix
    (False, False, {"FORCE_COLOR": "1"}, True),      # piped with FORCE_COLOR: codes go to a file or pager
    (True, True, {}, False),                        # --no-color
    (True, False, {"NO_COLOR": "1"}, False),
])
def test_no_console_to_fix_when_no_colour_reaches_one(fake_colorama, isatty, no_color_flag, environ, expected):
    assert colour_wanted(isatty, no_color_flag, environ, platform="win32") is expected
    assert fake_colorama == []


def test_without_colorama_a_windows_console_gets_no_colour(monkeypatch):
    monkeypatch.setitem(sys.modules, "colorama", None)  # import fails
    assert colour_wanted(True, False, {}, platform="win32") is False


def test_other_platforms_never_touch_colorama(fake_colorama):
    assert colour_wanted(True, False, {}, platform="linux") is True
    assert colour_wanted(True, False, {}, platform="darwin") is True
    assert fake_colorama == []
