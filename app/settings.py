"""Every setting of the service, read once from the environment (prefix ``HOTLINE_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./hotline.db"
    #: Connections per process on PostgreSQL (SQLite always uses one).
    db_pool_size: int = 10
    #: Ensures an admin API key with this secret exists at start-up (empty: none).
    bootstrap_admin_key: str = ""
    #: Folder of seed files loaded by ``python -m app.seed``.
    seed_dir: Path = Path("seeds/sumy")
    #: Region used to read phone numbers written without a country code.
    phone_region: str = "UA"
    #: Days after confirmation or a no-response close during which a ticket may be reopened.
    reopen_window_days: int = 30
    #: Seconds between refreshes of the in-memory reference data (categories, providers, ...).
    reference_refresh_seconds: float = 30.0
    #: Hours an Idempotency-Key's stored response is kept.
    idempotency_ttl_hours: int = 24
    #: Run the periodic workers inside the API process (set false when ``python -m app.workers`` runs).
    run_workers: bool = True
    #: Log SQL statements.
    sql_echo: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
