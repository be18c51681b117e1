"""The demo's chat page in real headless Chromium: a person's journey through the real bot.

The bot's texts are translated in parallel, so these tests look at structure (who wrote a bubble,
which buttons it has, whether it was edited) and at the few strings no translation changes.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

ARABIC_PHONE = "1001"
UKRAINIAN_PHONE = "1002"
MAIN_MENU = [
    "menu:offers",
    "menu:week",
    "menu:book",
    "menu:appointments",
    "menu:privacy",
    "menu:language",
    "menu:help",
]
ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
SCREENSHOT = "/tmp/sandbox-page.png"


def messages(page: Page, sender: str | None = None) -> Locator:
    selector = "[data-testid=message]" + (f"[data-sender={sender}]" if sender else "")
    return page.get_by_test_id("messages").locator(selector)


def choose_person(page: Page, person_id: str) -> None:
    page.get_by_test_id("person-select").select_option(person_id)
    expect(page).to_have_url(re.compile(rf"#person={person_id}$"))
    expect(page.get_by_test_id("person-select")).to_have_value(person_id)


def send(page: Page, text: str) -> None:
    composer = page.get_by_test_id("composer")
    composer.fill(text)
    composer.press("Enter")
    expect(messages(page, "person").filter(has_text=text).last).to_be_visible()
    expect(composer).to_have_value("")


def direction(message: Locator) -> str:
    return message.evaluate("node => node.matches(':dir(rtl)') ? 'rtl' : 'ltr'")


def test_start_then_help_edits_the_menu_in_place(demo, phone: Page, page_errors: list[str]) -> None:
    phone.goto(demo.base_url + "/")
    expect(phone).to_have_title("Wegweiser – Sandbox")
    choose_person(phone, ARABIC_PHONE)
    expect(phone.get_by_test_id("empty")).to_be_visible()

    send(phone, "/start")

    welcome = messages(phone, "bot").first
    expect(welcome).to_be_visible()
    buttons = welcome.get_by_test_id("inline-button")
    expect(buttons).to_have_count(len(MAIN_MENU))
    assert [b.get_attribute("data-callback-data") for b in buttons.all()] == MAIN_MENU
    for button in buttons.all():
        expect(button).to_be_visible()
        assert button.inner_text().strip(), "every menu button has a visible label"
    welcome_text = welcome.get_by_test_id("message-text").inner_text()
    assert welcome_text.strip()
    if ARABIC_LETTER.search(welcome_text):
        assert direction(welcome) == "rtl"
    expect(welcome.get_by_test_id("edited")).to_have_count(0)
    bot_message_id = welcome.get_attribute("data-message-id")

    welcome.locator("[data-callback-data='menu:help']").click()

    # The bot edits the menu message into the help text: same bubble, new text, one button back.
    help_bubble = phone.get_by_test_id("messages").locator(f"[data-message-id='{bot_message_id}']")
    expect(help_bubble.get_by_test_id("message-text")).to_contain_text("/language")
    expect(help_bubble.get_by_test_id("edited")).to_be_visible()
    expect(help_bubble.get_by_test_id("inline-button")).to_have_count(1)
    expect(help_bubble.get_by_test_id("inline-button")).to_have_attribute("data-callback-data", "menu:home")
    assert help_bubble.get_by_test_id("message-text").inner_text() != welcome_text
    expect(messages(phone, "bot")).to_have_count(1)
    expect(messages(phone, "person")).to_have_count(1)
    # Telegram HTML is rendered, not shown as markup: the heading is bold and no tag leaks out.
    expect(help_bubble.locator("[data-testid=message-text] b")).to_have_count(1)
    assert "<b>" not in help_bubble.get_by_test_id("message-text").inner_text()

    # The newest message is in view, and the page keeps the person across a reload.
    expect(help_bubble.get_by_test_id("inline-button")).to_be_in_viewport()
    phone.reload()
    expect(phone.get_by_test_id("person-select")).to_have_value(ARABIC_PHONE)
    expect(messages(phone)).to_have_count(2)
    expect(messages(phone, "bot").get_by_test_id("message-text")).to_contain_text("/language")

    if os.environ.get("WEGWEISER_SCREENSHOT"):
        phone.screenshot(path=SCREENSHOT)
    assert page_errors == []


def test_rtl_bubbles_and_separate_chats(demo, desktop: Page, page_errors: list[str]) -> None:
    desktop.goto(f"{demo.base_url}/#person={ARABIC_PHONE}")
    expect(desktop.get_by_test_id("person-select")).to_have_value(ARABIC_PHONE)
    greeting = "مرحبا، أين أجد دورة لغة؟"
    send(desktop, greeting)

    mine = messages(desktop, "person").filter(has_text=greeting)
    expect(mine).to_have_attribute("dir", "auto")
    assert direction(mine) == "rtl"
    assert mine.get_by_test_id("message-text").evaluate("node => getComputedStyle(node).direction") == "rtl"

    # Free text is a search: the bot lists the language courses of the sample directory, named in
    # Arabic where the directory has Arabic texts; its bubble sits on the left.
    answer = messages(desktop, "bot").first
    adults_course = answer.get_by_test_id("inline-button").filter(has_text="دورة لغة ألمانية للبالغين")
    expect(adults_course).to_have_count(1)
    answer_text = answer.get_by_test_id("message-text").inner_text()
    expected = "rtl" if ARABIC_LETTER.search(answer_text) else "ltr"
    assert direction(answer) == expected
    chat = desktop.get_by_test_id("messages").bounding_box()
    left, right = answer.bounding_box(), mine.bounding_box()
    assert chat and left and right
    middle = chat["x"] + chat["width"] / 2
    assert left["x"] < middle < right["x"] + right["width"]
    assert right["x"] + right["width"] > chat["x"] + chat["width"] - 40, "the person's bubble is on the right"
    assert left["x"] < chat["x"] + 40, "the bot's bubble is on the left"

    # Olena's chat is her own: none of Amira's messages, and her own /start answered.
    desktop.locator(f"[data-person-id='{UKRAINIAN_PHONE}']").click()
    expect(desktop).to_have_url(re.compile(rf"#person={UKRAINIAN_PHONE}$"))
    expect(desktop.get_by_test_id("person-select")).to_have_value(UKRAINIAN_PHONE)
    expect(desktop.get_by_test_id("empty")).to_be_visible()
    send(desktop, "/start")
    expect(messages(desktop, "bot")).to_have_count(1)
    expect(messages(desktop, "bot").get_by_test_id("inline-button")).to_have_count(len(MAIN_MENU))
    expect(desktop.get_by_test_id("messages")).not_to_contain_text(greeting)

    # Back to Amira: her conversation is unchanged, and Olena's /start is not in it.
    choose_person(desktop, ARABIC_PHONE)
    expect(messages(desktop, "person").filter(has_text=greeting)).to_have_count(1)
    expect(messages(desktop, "person").filter(has_text="/start")).to_have_count(0)
    expect(messages(desktop)).to_have_count(2)

    if os.environ.get("WEGWEISER_SCREENSHOT"):
        desktop.screenshot(path=SCREENSHOT.replace(".png", "-wide.png"))
    assert page_errors == []


def test_callback_toast_and_blocking(demo, phone: Page, page_errors: list[str]) -> None:
    phone.goto(f"{demo.base_url}/#person={UKRAINIAN_PHONE}")
    expect(phone.get_by_test_id("person-select")).to_have_value(UKRAINIAN_PHONE)
    phone.get_by_test_id("quick-language").click()
    picker = messages(phone, "bot").last
    expect(picker.locator("[data-callback-data^='lang:']").first).to_be_visible()

    picker.locator("[data-callback-data='lang:de']").click()

    # The callback answer shows as a toast; the picker turns into the welcome with the menu.
    expect(phone.get_by_test_id("toast")).to_contain_text("Deutsch")
    expect(picker.get_by_test_id("inline-button")).to_have_count(len(MAIN_MENU))
    expect(picker.get_by_test_id("edited")).to_be_visible()

    toggle = phone.get_by_test_id("block-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(phone.get_by_test_id("blocked-banner")).to_be_visible()

    # Writing to a blocked bot unblocks it, as in Telegram, and the bot answers again.
    send(phone, "/menu")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(phone.get_by_test_id("blocked-banner")).to_be_hidden()
    expect(messages(phone, "bot")).to_have_count(2)
    expect(messages(phone, "bot").last.get_by_test_id("inline-button")).to_have_count(len(MAIN_MENU))
    assert page_errors == []


def test_bot_html_is_rebuilt_from_telegram_tags_only(demo, phone: Page, page_errors: list[str]) -> None:
    phone.goto(demo.base_url + "/")
    expect(phone.get_by_test_id("person-select")).not_to_have_value("")
    rendered = phone.evaluate(
        """html => {
            const box = document.createElement('div');
            box.append(window.WegweiserSandbox.renderTelegramHtml(html));
            return {
                markup: box.innerHTML,
                text: box.textContent,
                links: [...box.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.target, a.rel]),
                tags: [...box.querySelectorAll('*')].map(e => e.localName),
                attributes: [...box.querySelectorAll('*')].flatMap(e => e.getAttributeNames()),
            };
        }""",
        "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <tg-spoiler>secret</tg-spoiler>"
        '<span class="tg-spoiler">two</span>'
        '<a href="https://example.org/x">ok</a> <a href="javascript:alert(1)">bad</a>'
        '<a href="tg://user?id=1">tg</a> <code>c</code> <pre>p</pre> <blockquote>q</blockquote>\n'
        '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
        '<b onclick="window.pwned=3">x</b> &lt;i&gt; &amp;',
    )
    assert rendered["links"] == [
        ["https://example.org/x", "_blank", "noopener noreferrer"],
        ["tg://user?id=1", "_blank", "noopener noreferrer"],
    ]
    assert set(rendered["tags"]) <= {"b", "i", "u", "s", "span", "a", "code", "pre", "blockquote"}
    assert set(rendered["attributes"]) <= {"href", "target", "rel", "class", "tabindex", "title"}
    assert "bad" in rendered["text"], "a link with a forbidden scheme keeps its text"
    assert rendered["text"].endswith("x <i> &")
    assert "\n" in rendered["text"]
    assert "onerror" not in rendered["markup"]
    assert "onclick" not in rendered["markup"]
    assert phone.evaluate("window.pwned") is None
    assert page_errors == []
