"""What the advisors' case pages say: names of the case store's codes, notices after a form, and
why a form was not accepted."""

from __future__ import annotations

from babel.numbers import format_decimal

from desk.i18n import DeskTexts
from storage import cases


def labels(texts: DeskTexts) -> dict[str, dict[str, str]]:
    """Translated names of the codes the case store uses."""
    return {
        "area": {
            "language": texts.gettext("Language"),
            "work": texts.gettext("Work"),
            "housing": texts.gettext("Housing"),
            "health": texts.gettext("Health"),
            "children": texts.gettext("Children and family"),
            "money": texts.gettext("Money"),
            "papers": texts.gettext("Papers and residence"),
            "social": texts.gettext("Social contacts"),
            "mobility": texts.gettext("Mobility"),
        },
        "need_status": {
            "unknown": texts.gettext("Not discussed yet"),
            "no_need": texts.gettext("No need"),
            "need": texts.gettext("Need"),
            "in_progress": texts.gettext("In progress"),
            "met": texts.gettext("Met"),
        },
        "goal_status": {
            "open": texts.gettext("Open"),
            "in_progress": texts.gettext("In progress"),
            "reached": texts.gettext("Reached"),
            "dropped": texts.gettext("Dropped"),
        },
        "case_status": {
            "new": texts.gettext("New"),
            "assessment": texts.gettext("Needs assessment"),
            "plan": texts.gettext("Integration plan"),
            "active": texts.gettext("Active"),
            "closed": texts.gettext("Closed"),
        },
        "purpose": {
            "booking": texts.gettext("Booking appointments"),
            "case": texts.gettext("Case management"),
            "reminders": texts.gettext("Reminders"),
            "referral": texts.gettext("Referral to services"),
        },
        "flag": {
            "plan_missing": texts.gettext("Plan missing"),
            "review_due": texts.gettext("Review due"),
            "period_ending": texts.gettext("Period ending"),
        },
        "show": {
            "mine": texts.gettext("My cases"),
            "unassigned": texts.gettext("Unassigned"),
            "plan_missing": texts.gettext("Plan missing"),
            "review_due": texts.gettext("Review due"),
            "period_ending": texts.gettext("Period ending"),
        },
        "consent_how": {"chat": texts.gettext("In the chat"), "in_person": texts.gettext("In person")},
        "consent_state": {
            "valid": texts.gettext("Valid"),
            "withdrawn": texts.gettext("Withdrawn"),
            "outdated": texts.gettext("Older text version"),
        },
        "appointment": {
            "booked": texts.gettext("Booked"),
            "attended": texts.gettext("Attended"),
            "no_show": texts.gettext("Did not come"),
            "cancelled": texts.gettext("Cancelled"),
            "cancelled_person": texts.gettext("Cancelled by the person"),
            "cancelled_advisor": texts.gettext("Cancelled by the advisor"),
        },
        "kind": {"first": texts.gettext("First consultation"), "follow_up": texts.gettext("Follow-up")},
        "topic": {
            "housing": texts.gettext("Housing"),
            "work": texts.gettext("Work"),
            "language": texts.gettext("Language"),
            "family": texts.gettext("Family"),
            "health": texts.gettext("Health"),
            "papers": texts.gettext("Papers and residence"),
            "money": texts.gettext("Money"),
            "other": texts.gettext("Something else"),
        },
        "cancel_reason": {
            "ill": texts.gettext("ill"),
            "no_time": texts.gettext("no time"),
            "solved": texts.gettext("solved"),
            "other": texts.gettext("other reason"),
            "none": texts.gettext("no reason given"),
            "advisor_ill": texts.gettext("advisor ill"),
            "emergency": texts.gettext("emergency"),
        },
        "referral": {
            "open": texts.gettext("Open"),
            "done": texts.gettext("Done"),
            "withdrawn": texts.gettext("Withdrawn"),
        },
    }


def notices(texts: DeskTexts) -> dict[str, str]:
    """What a finished form says on the page it returns to (``?done=…``)."""
    return {
        "taken": texts.gettext("You took the case on."),
        "consent": texts.gettext("The consent was recorded."),
        "need": texts.gettext("The needs assessment was saved."),
        "goal": texts.gettext("The goal was added to the plan."),
        "goal_changed": texts.gettext("The goal was saved."),
        "review": texts.gettext("The review was recorded."),
        "note": texts.gettext("The note was saved."),
        "extended": texts.gettext("The counselling period was extended."),
        "closed": texts.gettext("The case was closed."),
        "reopened": texts.gettext("The case was reopened."),
    }


def consent_first(texts: DeskTexts) -> str:
    return texts.gettext(
        "Record the person's consent first: without a valid consent to case management, no needs, "
        "plan, reviews or notes may be stored or shown."
    )


def no_key(texts: DeskTexts) -> str:
    return texts.gettext("Case texts cannot be read: the case-data key is not configured.")


def problems(texts: DeskTexts) -> dict[str, str]:
    """Why a form was not accepted, by the reason codes of ``storage.cases`` and of this module."""
    return {
        "area": texts.gettext("Please choose one of the listed areas."),
        "status": texts.gettext("Please choose one of the listed statuses."),
        "empty": texts.gettext("Please fill in the text."),
        "too_long": texts.gettext(
            "The text is too long: at most {limit} characters.",
            limit=format_decimal(cases.MAX_TEXT, locale=texts.language),
        ),
        "extended": texts.gettext("The counselling period can be extended only once, and it already was."),
        "closed": texts.gettext("This case is closed."),
        "date": texts.gettext("The next review must come after the review."),
        "bad_date": texts.gettext("Please enter a valid date."),
        "choice": texts.gettext("Please choose one of the listed options."),
        "confirm": texts.gettext("Please confirm that the person has agreed."),
        "not_closed": texts.gettext("Only a closed case can be reopened."),
        "unreadable": texts.gettext(
            "Some case texts cannot be decrypted with the configured key. Please tell the administrator."
        ),
        "consent": consent_first(texts),
        "no_key": no_key(texts),
    }
