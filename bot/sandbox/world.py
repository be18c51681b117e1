"""The simulated Telegram behind one bot token: people, private chats, pending updates and faults.

The Bot API side (what the bot calls) and the person side (what a simulated person does: type,
tap, block) both act on this one state, so the chat page, the tests and the benchmark see exactly
what the bot sent, after Telegram's rules were applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox import rules
from bot.sandbox.rules import BotApiError, bad_request
from bot.sandbox.webhook import DeliveryLog, WebhookDelivery, webhook_settings

CALLBACK_QUERY_LIFETIME = 15 * 60
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


@dataclass
class Person:
    """A simulated Telegram user with a private chat with the bot."""

    id: int
    first_name: str
    language_code: str | None = None
    label: str = ""
    blocked: bool = False
    started: bool = False

    def user_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}


@dataclass
class ChatMessage:
    """One message in a private chat, as the person's phone would show it."""

    message_id: int
    sender: str  # "bot" or "person"
    date: int
    text: str = ""
    html: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    location: dict[str, float] | None = None
    venue: dict[str, Any] | None = None
    edited: bool = False

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def view(self) -> dict[str, Any]:
        """What the chat page and the person API show of this message."""
        return {
            "message_id": self.message_id,
            "sender": self.sender,
            "date": self.date,
            "text": self.text,
            "html": self.html,
            "reply_markup": self.reply_markup,
            "document": self.document,
            "location": self.location,
            "venue": self.venue,
            "edited": self.edited,
        }


@dataclass
class CallbackQuery:
    person_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass
class Fault:
    """An injected failure for the next ``count`` calls of ``method`` (``*`` for any)."""

    method: str
    kind: str  # "retry_after", "blocked", "not_modified", "server_error"
    count: int = 1
    retry_after: int = 1


@dataclass
class StoredFile:
    file_id: str
    name: str
    mime_type: str
    content: bytes


@dataclass
class World:
    """Everything Telegram knows about one bot and the people talking to it."""

    token: str
    bot_id: int
    username: str
    first_name: str = "Wegweiser"
    people: dict[int, Person] = field(default_factory=dict)
    chats: dict[int, list[ChatMessage]] = field(default_factory=dict)
    pending_updates: deque[dict[str, Any]] = field(default_factory=deque)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    webhook_url: str = ""
    calls: list[str] = field(default_factory=list)
    refusals: list[tuple[str, str]] = field(default_factory=list)
    sent_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Webhook delivery (setWebhook): the running delivery, what it did, and its timing.
    webhook: WebhookDelivery | None = None
    webhook_log: DeliveryLog = field(default_factory=DeliveryLog)
    webhook_timeout: float = 10.0
    redelivery_delays: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    listeners: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._changed = asyncio.Condition()
        self.version = 0
        self.closing = False

    # ---- bookkeeping ----------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def _notify(self) -> None:
        self.version += 1
        for listener in self.listeners:
            listener()
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the world changed after ``since`` (or the timeout passed); new version."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version != since), timeout)
        return self.version

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message_json(self, chat_id: int, message: ChatMessage) -> dict[str, Any]:
        person = self.people[chat_id]
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": person.chat_json(),
            "from": self.bot_user() if message.sender == "bot" else person.user_json(),
        }
        if message.edited:
            body["edit_date"] = int(time.time())
        if message.document:
            body["document"] = {
                key: message.document[key]
                for key in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
            }
            if message.text:
                body["caption"] = message.text
        elif message.venue:
            body["venue"] = message.venue
            body["location"] = message.venue["location"]
        elif message.location:
            body["location"] = message.location
        else:
            body["text"] = message.text
            if message.sender == "person" and message.text.startswith("/"):
                command = message.text.split()[0]
                body["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": rules.utf16_length(command)}
                ]
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    def _queue_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self.pending_updates.append(update)
        self.sent_updates[update_id] = update
        return update_id

    async def close(self) -> None:
        """Answer every waiting long poll at once and stop webhook delivery, so the server can shut
        down promptly."""
        self.closing = True
        await self.stop_webhook()
        await self._notify()

    async def set_webhook(self, params: dict[str, Any]) -> bool:
        """``setWebhook``: deliver pending and new updates to the URL (an empty URL removes it)."""
        if not params.get("url"):
            return await self.delete_webhook(params)
        settings = webhook_settings(params)
        if self.webhook is not None and self.webhook.settings == settings:
            return True  # several instances setting the same webhook change nothing
        old, self.webhook = self.webhook, WebhookDelivery(self, settings)
        self.webhook_url = settings.url
        self.webhook.start()
        if old is not None:
            await old.stop()
        return True

    async def delete_webhook(self, params: dict[str, Any]) -> bool:
        """``deleteWebhook``: back to getUpdates, optionally dropping what is pending."""
        await self.stop_webhook()
        self.webhook_url = ""
        if str(params.get("drop_pending_updates")).lower() == "true":
            self.pending_updates.clear()
        return True

    async def stop_webhook(self) -> None:
        old, self.webhook = self.webhook, None
        if old is not None:
            await old.stop()

    def webhook_info(self) -> dict[str, Any]:
        """``getWebhookInfo``."""
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.settings.max_connections
            if self.webhook.settings.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.settings.allowed_updates
        if self.webhook_log.last_error_date is not None:
            info["last_error_date"] = self.webhook_log.last_error_date
            info["last_error_message"] = self.webhook_log.last_error_message
        return info

    async def redeliver(self, update_id: int) -> None:
        """Deliver an update again, as Telegram does when a bot crashed before confirming it."""
        self.pending_updates.append(self.sent_updates[update_id])
        await self._notify()

    async def inject_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Deliver an update written by hand (a group message, a channel post, a service message),
        for tests of what the bot must leave alone; returns its update id."""
        update_id = self._queue_update(kind, payload)
        await self._notify()
        return update_id

    # ---- the person side ---------------------------------------------------------------------

    def add_person(
        self, person_id: int, first_name: str, language_code: str | None, label: str = ""
    ) -> Person:
        person = self.people.get(person_id)
        if person is None:
            person = Person(person_id, first_name, language_code, label)
            self.people[person_id] = person
            self.chats[person_id] = []
        else:
            person.first_name, person.language_code, person.label = first_name, language_code, label
        return person

    def _person(self, person_id: int) -> Person:
        try:
            return self.people[person_id]
        except KeyError:
            raise LookupError(f"no simulated person {person_id}") from None

    async def person_sends(self, person_id: int, text: str) -> int:
        """The person types a message; returns the update id the bot will receive."""
        person = self._person(person_id)
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        if person.blocked:
            await self.person_unblocks(person_id)
        person.started = True
        message = ChatMessage(self._next_message_id(person_id), "person", int(time.time()), text)
        self.chats[person_id].append(message)
        update_id = self._queue_update("message", self._message_json(person_id, message))
        await self._notify()
        return update_id

    async def person_taps(
        self, person_id: int, message_id: int, callback_data: str, *, forged: bool = False
    ) -> tuple[int, str]:
        """The person taps an inline button; ``forged`` skips the check that the button exists,
        as a modified client could. Returns the update id and the callback query id."""
        person = self._person(person_id)
        message = self._find(person_id, message_id)
        if message is None or message.sender != "bot":
            raise LookupError("no such bot message in this chat")
        if not forged and callback_data not in {b.get("callback_data") for b in message.buttons}:
            raise LookupError("this message has no button with that data")
        query_id = secrets.token_hex(8)
        self.callback_queries[query_id] = CallbackQuery(
            person_id, message_id, callback_data, time.monotonic()
        )
        payload = {
            "id": query_id,
            "from": person.user_json(),
            "message": self._message_json(person_id, message),
            "chat_instance": str(person_id * 7919),
            "data": callback_data,
        }
        update_id = self._queue_update("callback_query", payload)
        await self._notify()
        return update_id, query_id

    async def person_blocks(self, person_id: int) -> int:
        return await self._member_change(person_id, blocked=True)

    async def person_unblocks(self, person_id: int) -> int:
        return await self._member_change(person_id, blocked=False)

    async def _member_change(self, person_id: int, *, blocked: bool) -> int:
        person = self._person(person_id)
        person.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        payload = {
            "chat": person.chat_json(),
            "from": person.user_json(),
            "date": int(time.time()),
            "old_chat_member": self._membership(old),
            "new_chat_member": self._membership(new),
        }
        update_id = self._queue_update("my_chat_member", payload)
        await self._notify()
        return update_id

    def _membership(self, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"user": self.bot_user(), "status": status}
        if status == "kicked":
            member["until_date"] = 0
        return member

    def chat_view(self, person_id: int) -> list[dict[str, Any]]:
        return [message.view() for message in self.chats[self._person(person_id).id]]

    def _find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    # ---- the Bot API side --------------------------------------------------------------------

    def take_fault(self, method: str) -> None:
        """Raise the next injected fault that applies to ``method``, if any."""
        for fault in self.faults:
            if fault.count > 0 and fault.method in (method, "*"):
                fault.count -= 1
                if fault.kind == "retry_after":
                    raise BotApiError(
                        429,
                        f"Too Many Requests: retry after {fault.retry_after}",
                        fault.retry_after,
                    )
                if fault.kind == "blocked":
                    raise BotApiError(403, "Forbidden: bot was blocked by the user")
                if fault.kind == "not_modified":
                    raise bad_request(
                        "message is not modified: specified new message content and reply "
                        "markup are exactly the same as a current content and reply markup "
                        "of the message"
                    )
                raise BotApiError(500, "Internal Server Error")
        self.faults = [fault for fault in self.faults if fault.count > 0]

    def _recipient(self, params: dict[str, Any]) -> Person:
        chat_id = params.get("chat_id")
        try:
            person = self.people[int(chat_id)]  # type: ignore[arg-type]
        except (TypeError, ValueError, KeyError):
            raise bad_request("chat not found") from None
        if person.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if not person.started:
            raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return person

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        while self.pending_updates and self.pending_updates[0]["update_id"] < offset:
            self.pending_updates.popleft()
        if not self.pending_updates and timeout:
            deadline = time.monotonic() + timeout
            while not self.pending_updates and not self.closing and time.monotonic() < deadline:
                await self.wait_for_change(self.version, deadline - time.monotonic())
        allowed = params.get("allowed_updates") or None
        updates = [
            update
            for update in list(self.pending_updates)[:limit]
            if allowed is None or any(kind in update for kind in allowed)
        ]
        return updates

    async def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        person = self._recipient(params)
        parse_mode = params.get("parse_mode")
        text = rules.visible_text(params.get("text"), parse_mode, rules.MAX_TEXT, required=True)
        markup = params.get("reply_markup")
        rules.check_reply_markup(markup)
        html = params.get("text") if parse_mode and parse_mode.upper() == "HTML" else None
        message = ChatMessage(self._next_message_id(person.id), "bot", int(time.time()), text, html, markup)
        self.chats[person.id].append(message)
        await self._notify()
        return self._message_json(person.id, message)

    def _editable(self, params: dict[str, Any]) -> tuple[Person, ChatMessage]:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the sandbox")
        person = self._recipient(params)
        try:
            message = self._find(person.id, int(params.get("message_id")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            message = None
        if message is None:
            raise bad_request("message to edit not found")
        if message.sender != "bot":
            raise bad_request("message can't be edited")
        return person, message

    async def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        person, message = self._editable(params)
        if message.document or message.location or message.venue:
            raise bad_request("there is no text in the message to edit")
        parse_mode = params.get("parse_mode")
        text = rules.visible_text(params.get("text"), parse_mode, rules.MAX_TEXT, required=True)
        markup = params.get("reply_markup")
        rules.check_reply_markup(markup)
        html = params.get("text") if parse_mode and parse_mode.upper() == "HTML" else None
        if text == message.text and html == message.html and markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.text, message.html, message.reply_markup, message.edited = text, html, markup, True
        await self._notify()
        return self._message_json(person.id, message)

    async def edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        person, message = self._editable(params)
        markup = params.get("reply_markup")
        rules.check_reply_markup(markup)
        if markup == message.reply_markup or (not markup and not message.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.reply_markup, message.edited = markup, True
        await self._notify()
        return self._message_json(person.id, message)

    async def delete_message(self, params: dict[str, Any]) -> bool:
        person = self._recipient(params)
        try:
            message = self._find(person.id, int(params.get("message_id")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            message = None
        if message is None:
            raise bad_request("message to delete not found")
        self.chats[person.id].remove(message)
        await self._notify()
        return True

    async def answer_callback_query(self, params: dict[str, Any]) -> bool:
        query = self.callback_queries.get(str(params.get("callback_query_id")))
        too_old = "query is too old and response timeout expired or query ID is invalid"
        if query is None or query.answered:
            raise bad_request(too_old)
        if time.monotonic() - query.created > CALLBACK_QUERY_LIFETIME:
            raise bad_request(too_old)
        text = params.get("text")
        if text is not None and len(text) > rules.MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        if params.get("url"):
            raise bad_request("URL_INVALID")
        query.answered, query.answer_text = True, text
        query.show_alert = str(params.get("show_alert")).lower() == "true"
        await self._notify()
        return True

    async def send_document(self, params: dict[str, Any], upload: StoredFile | None) -> dict:
        person = self._recipient(params)
        if upload is None:
            existing = self.files.get(str(params.get("document")))
            if existing is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            upload = existing
        if not upload.content:
            raise bad_request("file must be non-empty")
        self.files[upload.file_id] = upload
        parse_mode = params.get("parse_mode")
        caption = rules.visible_text(params.get("caption"), parse_mode, rules.MAX_CAPTION, required=False)
        markup = params.get("reply_markup")
        rules.check_reply_markup(markup)
        document = {
            "file_id": upload.file_id,
            "file_unique_id": upload.file_id[:16],
            "file_name": upload.name,
            "mime_type": upload.mime_type,
            "file_size": len(upload.content),
            "url": f"/sandbox/api/files/{upload.file_id}",
        }
        message = ChatMessage(
            self._next_message_id(person.id),
            "bot",
            int(time.time()),
            caption,
            reply_markup=markup,
            document=document,
        )
        self.chats[person.id].append(message)
        await self._notify()
        return self._message_json(person.id, message)

    async def send_location(self, params: dict[str, Any], *, venue: bool) -> dict[str, Any]:
        person = self._recipient(params)
        try:
            latitude, longitude = float(params["latitude"]), float(params["longitude"])
        except (KeyError, TypeError, ValueError):
            raise bad_request("wrong latitude/longitude") from None
        rules.check_coordinates(latitude, longitude)
        location = {"latitude": latitude, "longitude": longitude}
        markup = params.get("reply_markup")
        rules.check_reply_markup(markup)
        message = ChatMessage(self._next_message_id(person.id), "bot", int(time.time()), reply_markup=markup)
        if venue:
            title, address = params.get("title"), params.get("address")
            if not title or not address:
                raise bad_request("venue title and address must be non-empty")
            message.venue = {"location": location, "title": title, "address": address}
            message.text = f"{title}\n{address}"
        else:
            message.location = location
        self.chats[person.id].append(message)
        await self._notify()
        return self._message_json(person.id, message)

    def set_my_commands(self, params: dict[str, Any]) -> bool:
        language = params.get("language_code") or ""
        rules.check_commands(params.get("commands"), language)
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, language)] = list(params["commands"])
        return True

    def get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return self.commands.get((scope, params.get("language_code") or ""), [])

    def delete_my_commands(self, params: dict[str, Any]) -> bool:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands.pop((scope, params.get("language_code") or ""), None)
        return True

    def send_chat_action(self, params: dict[str, Any]) -> bool:
        self._recipient(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True
