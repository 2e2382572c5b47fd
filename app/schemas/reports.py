"""The weekly report."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Intake(BaseModel):
    total: int
    by_channel: dict[str, int]
    by_category_group: dict[str, int]
    consultations_at_first_contact: int
    first_contact_resolution_rate: float | None


class Outcomes(BaseModel):
    resolved: int
    confirmed: int
    rejected: int
    reopened: int
    closed_no_response: int
    #: confirmed / (confirmed + rejected + closed as no_response): silence is not success.
    confirmation_rate: float | None
    #: (rejected + reopened) / resolved.
    reopen_rate: float | None
    average_rating: float | None
    ratings: int


class Sla(BaseModel):
    warnings: int
    breaches: dict[str, int]
    breaches_total: int


class Backlog(BaseModel):
    open: int
    overdue_statutory: int
    with_dispatcher: int


class ProviderRow(BaseModel):
    code: str
    name: str
    routed: int
    acknowledged: int
    declined: int
    median_minutes_to_acknowledge: float | None
    resolved: int
    median_hours_to_resolve: float | None
    confirmed: int
    rejected: int
    closed_no_response: int
    confirmation_rate: float | None
    sla_breaches: int
    open_now: int
    overdue_now: int


class WeeklyReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    week: str
    #: Local midnights of the ISO week in the hotline's time zone.
    from_: datetime = Field(alias="from")
    to: datetime
    timezone: str
    intake: Intake
    outcomes: Outcomes
    sla: Sla
    #: Open tickets when the report is produced (the one part that is not historical).
    backlog_now: Backlog
    providers: list[ProviderRow]
