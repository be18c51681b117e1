"""Telegram's input rules, enforced the way the real Bot API enforces them.

Each check raises :class:`BotApiError` with the status code and description Telegram answers with,
so the bot meets in the sandbox the same refusals it would meet in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_BUTTONS_PER_ROW = 8
MAX_BUTTONS = 100
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
ALLOWED_URL_SCHEMES = ("http://", "https://", "tg://")
# Tags Telegram's HTML parse mode understands, and the attributes each may carry.
HTML_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>")
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)(?:=(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);")


@dataclass
class BotApiError(Exception):
    """A refusal as the Bot API sends it: HTTP status, description, optional retry_after."""

    status: int
    description: str
    retry_after: int | None = None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}")


def utf16_length(text: str) -> int:
    """Telegram counts text length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def plain_text_of_html(markup: str) -> str:
    """Parse Telegram-flavoured HTML strictly and return the text a person would see."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    while position < len(markup):
        char = markup[position]
        if char == "<":
            match = _TAG.match(markup, position)
            if not match:
                raise bad_request(f"can't parse entities: Unexpected character at byte offset {position}")
            closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
            if name not in HTML_TAGS:
                raise bad_request(f'can\'t parse entities: Unsupported start tag "{name}"')
            if closing:
                if not stack or stack[-1] != name:
                    raise bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset {position}, "
                        f'expected "</{stack[-1] if stack else ""}>", found "</{name}>"'
                    )
                stack.pop()
            else:
                for attribute, value in _ATTRIBUTE.findall(attributes):
                    if attribute.lower() not in HTML_TAGS[name]:
                        raise bad_request(f'can\'t parse entities: Unsupported attribute "{attribute}"')
                    if name == "span" and value.strip("\"'") != "tg-spoiler":
                        raise bad_request('can\'t parse entities: Unsupported start tag "span"')
                stack.append(name)
            position = match.end()
        elif char == "&":
            match = _ENTITY.match(markup, position)
            if not match:
                raise bad_request(
                    f"can't parse entities: Character '&' at byte offset {position} is not a valid entity"
                )
            body = match.group(1)
            if body.startswith("#"):
                out.append(unescape(match.group(0)))
            elif body in NAMED_ENTITIES:
                out.append(NAMED_ENTITIES[body])
            else:
                raise bad_request(f'can\'t parse entities: Unsupported entity "&{body};"')
            position = match.end()
        elif char == ">":
            raise bad_request(f"can't parse entities: Unexpected '>' at byte offset {position}")
        else:
            out.append(char)
            position += 1
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def visible_text(text: str | None, parse_mode: str | None, limit: int, *, required: bool) -> str:
    """The text after entity parsing, checked for emptiness and Telegram's length limit."""
    raw = text or ""
    if parse_mode is not None and parse_mode.upper() not in ("HTML", "MARKDOWNV2", "MARKDOWN"):
        raise bad_request("unsupported parse_mode")
    plain = plain_text_of_html(raw) if parse_mode and parse_mode.upper() == "HTML" else raw
    if required and not plain.strip():
        raise bad_request("message text is empty")
    if utf16_length(plain) > limit:
        raise bad_request("message is too long" if limit == MAX_TEXT else "message caption is too long")
    return plain


def check_url(url: Any) -> None:
    if not isinstance(url, str) or not url.startswith(ALLOWED_URL_SCHEMES) or " " in url:
        raise bad_request("BUTTON_URL_INVALID")
    if url.startswith(("http://", "https://")) and "." not in url.split("://", 1)[1].split("/")[0]:
        raise bad_request("BUTTON_URL_INVALID")


def check_reply_markup(markup: Any) -> None:
    """Validate an inline keyboard, reply keyboard, keyboard removal or force reply."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" must be an Array')
        for row in rows:
            for button in row:
                text = button if isinstance(button, str) else button.get("text")
                if not text:
                    raise bad_request("BUTTON_TEXT_EMPTY")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise bad_request('can\'t find field "inline_keyboard"')


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" must be an Array of Arrays')
    total = 0
    for row in rows:
        if len(row) > MAX_BUTTONS_PER_ROW:
            raise bad_request("BUTTONS_TOO_WIDE")
        total += len(row)
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request(
                    "BUTTON_TEXT_EMPTY" if isinstance(button, dict) else "can't parse inline keyboard button"
                )
            actions = [key for key in BUTTON_ACTIONS if key in button]
            if len(actions) != 1:
                raise bad_request("BUTTON_TYPE_INVALID")
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                check_url(button["url"])
    if total > MAX_BUTTONS:
        raise bad_request("BUTTONS_TOO_MUCH")


def check_commands(commands: Any, language_code: str | None) -> None:
    if language_code and not LANGUAGE_CODE.match(language_code):
        raise bad_request("LANG_CODE_INVALID")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        description = command.get("description", "") if isinstance(command, dict) else ""
        if not COMMAND_NAME.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def check_coordinates(latitude: float, longitude: float) -> None:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong latitude/longitude")
