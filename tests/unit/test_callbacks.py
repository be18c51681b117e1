"""The callback-data codec parses strictly and never produces data Telegram would refuse."""

from __future__ import annotations

import pytest

from handlers.callbacks import Action, integer, one_of
from handlers.keyboards import CHOOSE_LANGUAGE, MENU

PAGE = Action("page", (one_of({"offers", "clubs"}), integer()))


def test_encoded_data_decodes_to_the_same_fields() -> None:
    assert PAGE.decode(PAGE.encode("offers", 12)) == ("offers", "12")
    assert MENU.decode("menu:help") == ("help",)
    assert CHOOSE_LANGUAGE.decode("lang:ar") == ("ar",)


@pytest.mark.parametrize(
    "data",
    [
        "page:offers",
        "page:offers:12:1",
        "page:flats:1",
        "page:offers:-1",
        "page:offers:01",
        "page:offers:1e3",
        "page:offers:1234567890",
        "menu:help",
        "",
        None,
        42,
        "page:offers:1\n",
        "x" * 65,
    ],
)
def test_malformed_or_foreign_data_is_rejected(data: object) -> None:
    assert PAGE.decode(data) is None
    assert not PAGE.matches(data)


def test_values_that_do_not_fit_cannot_be_encoded() -> None:
    with pytest.raises(ValueError):
        PAGE.encode("flats", 1)
    with pytest.raises(ValueError):
        Action("Bad-Name")
    with pytest.raises(ValueError):
        Action("long", (r".*",)).encode("x" * 70)


def test_parsed_fields_are_typed_whole_numbers_as_int() -> None:
    assert PAGE.parse("page:offers:12") == ("offers", 12)
    assert PAGE.parse("page:offers:012") is None
    assert MENU.parse("menu:help") == ("help",)
