"""The Math-Verify copies are tied to one math-verify release: another installed version warns, once."""

import warnings

import pytest

from thinklab.grading import mathverify_compat


def test_the_mirrored_version_is_installed_and_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mathverify_compat.check_version() is True
        assert mathverify_compat.check_version(mathverify_compat.MIRRORED_VERSION) is True


def test_another_version_warns_once(monkeypatch):
    monkeypatch.setattr(mathverify_compat, "_warned", False)
    with pytest.warns(RuntimeWarning, match=r"math-verify 9\.9\.9 is installed.*mirrors math-verify 0\.9\.0"):
        assert mathverify_compat.check_version("9.9.9") is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second check stays quiet
        assert mathverify_compat.check_version("9.9.9") is False
