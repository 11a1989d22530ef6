"""Secrets are removed from text as whole values: never spelled out by what they occur in."""

from __future__ import annotations

import pytest

from tutela.redaction import ANYWHERE_CHARS, redact

GUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.mark.parametrize("secret", ["a", "3", "-", "5717", "f6", "3fa85f64-5717"])
def test_a_short_secret_inside_a_longer_token_is_not_a_match(secret: str) -> None:
    text = f"tenant {GUID} refused"
    assert redact(text, [secret], "[secret]") == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("secret=s3cr~t&grant=x", "secret=[secret]&grant=x"),
        ('{"client_secret": "s3cr~t"}', '{"client_secret": "[secret]"}'),
        ("it was s3cr~t.", "it was [secret]."),
        ("s3cr~t", "[secret]"),
        ("(s3cr~t) s3cr~t", "([secret]) [secret]"),
        ("xs3cr~t s3cr~tx s3cr~t.x s3cr~t-1", "xs3cr~t s3cr~tx s3cr~t.x s3cr~t-1"),
    ],
)
def test_a_short_secret_is_replaced_as_a_whole_value(text: str, expected: str) -> None:
    assert redact(text, ["s3cr~t"], "[secret]") == expected


def test_a_long_secret_is_replaced_wherever_it_occurs() -> None:
    """A random string that long cannot occur by chance: a token holding it holds the secret."""
    secret = "Qx8~kTn3.Vb_q2RzW7yHc-9LmPdF4sJe"
    assert len(secret) >= ANYWHERE_CHARS
    text = f"AADSTS: bad value 'prefix{secret}suffix' and {secret}."
    assert secret not in redact(text, [secret], "[secret]")


def test_the_longest_secret_first_and_empty_ones_ignored() -> None:
    key = "tut_0123456789abcdefghij"
    assert redact(f"{key} {key[:10]}", ["", key[:10], key], "[r]") == "[r] [r]"
