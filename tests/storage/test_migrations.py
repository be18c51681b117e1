"""The Alembic migrations, run for real: upgrade to head, down to base, and up again."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import downgrade_to_base, upgrade_to_head
from storage.models import Base, schema_metadata


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_create_every_model_table_and_remove_them_again(engine: AsyncEngine) -> None:
    model_tables = set(Base.metadata.tables)
    assert model_tables <= await table_names(engine)

    await downgrade_to_base(engine)
    assert not model_tables & await table_names(engine)

    await upgrade_to_head(engine)
    await upgrade_to_head(engine)  # a second upgrade is a no-op
    assert model_tables <= await table_names(engine)


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def differences(sync_connection: object) -> list:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return compare_metadata(context, schema_metadata())

    async with engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []
