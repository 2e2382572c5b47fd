"""SLA policies as the API reads and writes them: ISO 8601 durations and a calendar."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from app.models import Priority, SlaCalendar
from app.services.sla_calendar import parse_duration


def _duration(text: str) -> str:
    parse_duration(text)
    return text.strip().upper()


IsoDuration = Annotated[str, AfterValidator(_duration)]


class SlaTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Routed → accepted, e.g. "PT2H".
    acknowledge_within: IsoDuration
    #: Accepted → resolved, e.g. "P3D" (three working days on the working-hours calendar).
    resolve_within: IsoDuration
    calendar: SlaCalendar


class SlaPolicyIn(SlaTerms):
    #: Other terms for some priorities (e.g. emergencies on 24x7 in hours).
    by_priority: dict[Priority, SlaTerms] = {}


class SlaPolicyRead(BaseModel):
    category: str
    #: The category whose policy applies (this one, or the nearest ancestor); null: no clocks.
    defined_at: str | None
    acknowledge_within: str | None
    resolve_within: str | None
    calendar: SlaCalendar | None
    by_priority: dict[Priority, SlaTerms] = {}
