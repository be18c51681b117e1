"""Key rotation: re-encrypt every stored case text with the newest configured key.

The procedure: put a new key first in ``WEGWEISER_CASE_DATA_KEY`` (keep the old one after it), run
``wegweiser keys rotate``, then remove the old key. Rotation happens in the caller's transaction:
if one text cannot be decrypted, nothing is changed.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.crypto import CaseCipher
from storage.models import Case, CaseKeyCanary, CaseNote, Goal, NeedAssessment, Review

ENCRYPTED_COLUMNS: tuple[InstrumentedAttribute[str | None], ...] = (
    NeedAssessment.note,
    Goal.goal,
    Goal.steps,
    Review.summary,
    CaseNote.text,
    Case.extension_reason,
)


async def rotate_case_texts(session: AsyncSession, cipher: CaseCipher) -> int:
    """Re-encrypt every stored case text with the cipher's newest key; returns how many.

    Raises ``storage.crypto.UnreadableText`` when a text cannot be decrypted with any key."""
    rotated = 0
    for column in ENCRYPTED_COLUMNS:
        model = column.class_
        rows = await session.execute(select(model.id, column).where(column.is_not(None)))
        changes = [{"id": row_id, column.key: cipher.rotate(token)} for row_id, token in rows]
        if changes:
            await session.execute(update(model), changes)
        rotated += len(changes)
    # The canary that ``wegweiser check`` decrypts follows the texts to the newest key.
    for canary in await session.scalars(select(CaseKeyCanary)):
        canary.token = cipher.rotate(canary.token) or canary.token
    return rotated
