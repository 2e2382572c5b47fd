"""Every setting of the service, read once from the environment (prefix ``HOTLINE_``)."""

from datetime import time
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./hotline.db"
    #: Connections per process on PostgreSQL (SQLite always uses one). Requests beyond it wait for one:
    #: opening and closing overflow connections under load cost more than the wait.
    db_pool_size: int = 20
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
    #: Seconds a process trusts a key it has seen; a revocation applies at once where it was made and
    #: within this time on other replicas (0: look the key up on every request).
    key_cache_seconds: float = 10.0
    #: Days back in which an earlier call makes a caller a "repeat caller" on the screen pop.
    cti_repeat_caller_days: int = 7
    #: Minutes after a missed call by which its call-back is due.
    cti_callback_due_minutes: int = 15
    #: The Open311 jurisdiction_id served; a request naming another gets 404 (empty: any is accepted).
    open311_jurisdiction_id: str = ""
    #: Contact text shown in the Open311 service discovery document.
    open311_contact: str = "Служба 15-80, Сумська міська рада"
    #: Where an Open311 integrator asks for an api_key (shown in the discovery document).
    open311_key_service: str = "Ask the hotline administrator for an integrator API key."
    #: Waits between webhook attempts (s, m, h, d); after the last one a delivery is dead-lettered.
    webhook_retry_schedule: str = "5s,30s,2m,10m,1h,6h,12h"
    #: Seconds between runs of the outbox dispatcher and the webhook sender.
    webhook_poll_seconds: float = 1.0
    #: Seconds a receiver has to answer one webhook request.
    webhook_timeout_seconds: float = 10.0
    #: Outbox rows fanned out, or deliveries sent, per run.
    webhook_batch_size: int = 100
    #: Hours the previous secret still signs webhooks after a rotation.
    webhook_secret_overlap_hours: int = 24
    #: The API's public address, to build the confirm/reject links sent to integrators ("" = paths only).
    public_base_url: str = ""
    #: Unreachable confirmation calls after which the ticket closes as no_response.
    callback_max_attempts: int = 3
    #: Minutes until the next call after an unreachable one.
    callback_retry_minutes: int = 120
    #: Seconds between runs of the SLA watcher (warnings, breaches, escalations, auto-close).
    watch_interval: float = 30.0
    #: Share of a clock after which the watcher records a warning.
    sla_warn_share: float = Field(default=0.8, gt=0, lt=1)
    #: Time zone of the working-hours calendar.
    sla_timezone: str = "Europe/Kyiv"
    #: Start and end of a working day (local time).
    work_day_start: time = time(8, 0)
    work_day_end: time = time(17, 0)
    #: ISO weekdays that are working days (1 = Monday), e.g. [1,2,3,4,5].
    work_days: list[int] = [1, 2, 3, 4, 5]
    #: Public holidays (from the `holidays` package for this country) are days off; false under martial law.
    holidays_are_days_off: bool = True
    holidays_country: str = "UA"
    #: Statutory deadline (Law "On Citizens' Appeals", art. 20): days; a month when a study is needed; max.
    statutory_days: int = 15
    statutory_study_days: int = 30
    statutory_max_days: int = 45
    #: Days a resolved ticket waits for the citizen before it closes as no_response.
    auto_close_silent_days: float = 7.0
    #: prometheus-client's multiprocess folder (several worker processes); read without the prefix.
    prometheus_multiproc_dir: str = Field(default="", validation_alias="PROMETHEUS_MULTIPROC_DIR")


@lru_cache
def get_settings() -> Settings:
    return Settings()
