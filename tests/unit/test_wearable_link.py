"""The Ultrahuman account e-mail a patient is linked with: what is accepted, how it is stored."""

from __future__ import annotations

import pytest

from backend.domain.errors import ValidationFailed
from backend.domain.wearable_link import clean_account_email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("asha@example.com", "asha@example.com"),
        ("  Asha.Rao+ring@Mail.Example.IN ", "Asha.Rao+ring@mail.example.in"),  # the domain is case-blind
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_accepted(typed: str | None, stored: str | None) -> None:
    assert clean_account_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "asha",
        "asha@",
        "@example.com",
        "asha@example",
        "asha@@example.com",
        "as ha@example.com",
        "asha..rao@example.com",
        "asha.@example.com",
        "asha@-example.com",
        "asha@example.c",
        "a" * 65 + "@example.com",
        "x@" + "a" * 250 + ".com",
    ],
)
def test_refused_with_the_fix(typed: str) -> None:
    with pytest.raises(ValidationFailed, match=r"such as name@example\.com"):
        clean_account_email(typed)
