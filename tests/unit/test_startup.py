"""Start-up loads only what ``wegweiser run`` needs at once: Alembic only when the database is
behind, the desk only when it is served, holidays only when first asked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from storage.migrate import alembic_config, head_revisions

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def loaded_modules(code: str) -> set[str]:
    """The top-level packages loaded after running ``code`` in a fresh interpreter."""
    script = code + "\nimport sys\nprint(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(result.stdout.split())


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert head_revisions() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_building_the_bot_loads_neither_the_desk_nor_alembic_nor_holidays() -> None:
    loaded = loaded_modules("import bot.app")
    assert not {"alembic", "desk", "holidays", "jinja2"} & loaded


def test_a_database_already_at_head_is_checked_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade = (
        "import asyncio\nfrom storage.db import create_engine\nfrom storage.migrate import upgrade_to_head\n"
        f"engine = create_engine({url!r})\nasyncio.run(upgrade_to_head(engine))\n"
    )
    assert "alembic" in loaded_modules(upgrade)  # a new database is migrated
    assert "alembic" not in loaded_modules(upgrade)  # the next start finds it at head
