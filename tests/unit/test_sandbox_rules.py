"""The sandbox refuses what Telegram refuses."""

from __future__ import annotations

import pytest

from bot.sandbox.rules import (
    BotApiError,
    check_commands,
    check_reply_markup,
    plain_text_of_html,
    visible_text,
)


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        ("<b>bold</b> &amp; <i>it</i>", "bold & it"),
        ('<a href="https://example.org">x</a>', "x"),
        ("&lt;tag&gt; &quot;q&quot; &#1575; &#x41;", '<tag> "q" ا A'),
        ('<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>', "sq"),
    ],
)
def test_valid_telegram_html_is_parsed_to_the_visible_text(markup: str, plain: str) -> None:
    assert plain_text_of_html(markup) == plain


@pytest.mark.parametrize(
    "markup",
    [
        "<b>unclosed",
        "<b><i>crossed</b></i>",
        "<br>",
        "<div>x</div>",
        "a < b",
        "a > b",
        "Tom & Jerry",
        "&nbsp;",
        '<a onclick="x">y</a>',
        "</b>",
    ],
)
def test_invalid_html_is_refused_like_telegram_does(markup: str) -> None:
    with pytest.raises(BotApiError) as refused:
        plain_text_of_html(markup)
    assert refused.value.status == 400
    assert refused.value.description.startswith("Bad Request: can't parse entities")


def test_text_length_is_counted_after_parsing_in_utf16_units() -> None:
    assert visible_text("<b>" + "a" * 4096 + "</b>", "HTML", 4096, required=True)
    with pytest.raises(BotApiError, match="message is too long"):
        visible_text("😀" * 2049, None, 4096, required=True)
    with pytest.raises(BotApiError, match="message text is empty"):
        visible_text("<b> </b>", "HTML", 4096, required=True)


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ({"inline_keyboard": [[{"text": "x", "callback_data": "a" * 65}]]}, "BUTTON_DATA_INVALID"),
        ({"inline_keyboard": [[{"text": "x", "callback_data": ""}]]}, "BUTTON_DATA_INVALID"),
        ({"inline_keyboard": [[{"text": "x", "callback_data": "ä" * 33}]]}, "BUTTON_DATA_INVALID"),
        ({"inline_keyboard": [[{"text": "x"}]]}, "BUTTON_TYPE_INVALID"),
        (
            {"inline_keyboard": [[{"text": "x", "url": "https://a.de", "callback_data": "a"}]]},
            "BUTTON_TYPE_INVALID",
        ),
        ({"inline_keyboard": [[{"text": "", "callback_data": "a"}]]}, "BUTTON_TEXT_EMPTY"),
        ({"inline_keyboard": [[{"text": "x", "url": "javascript:alert(1)"}]]}, "BUTTON_URL_INVALID"),
        ({"inline_keyboard": [[{"text": "x", "url": "https://localhost"}]]}, "BUTTON_URL_INVALID"),
        (
            {"inline_keyboard": [[{"text": str(i), "callback_data": "a"} for i in range(9)]]},
            "BUTTONS_TOO_WIDE",
        ),
        ({"inline_keyboard": [[{"text": "x", "callback_data": "a"}]] * 101}, "BUTTONS_TOO_MUCH"),
    ],
)
def test_keyboards_outside_telegram_limits_are_refused(markup: dict, error: str) -> None:
    with pytest.raises(BotApiError, match=error):
        check_reply_markup(markup)


def test_a_keyboard_at_the_limits_is_accepted() -> None:
    check_reply_markup({"inline_keyboard": [[{"text": "x", "callback_data": "a" * 64}] * 8]})
    check_reply_markup({"inline_keyboard": [[{"text": "x", "url": "tg://user?id=1"}]]})


@pytest.mark.parametrize(
    ("commands", "language"),
    [
        ([{"command": "Start", "description": "x"}], "de"),
        ([{"command": "start", "description": ""}], "de"),
        ([{"command": "start", "description": "x"}], "deu"),
        ([{"command": "a" * 33, "description": "x"}], ""),
    ],
)
def test_invalid_command_menus_are_refused(commands: list, language: str) -> None:
    with pytest.raises(BotApiError):
        check_commands(commands, language)
