"""Alembic environment: configured from callcenter.db (no alembic.ini needed)."""
from alembic import context

from callcenter.db import make_engine
from callcenter.models import Base

url = context.config.get_main_option("sqlalchemy.url")
with make_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
