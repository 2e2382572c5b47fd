"""A ticket rendered for a reader: names from the in-memory reference data, no extra queries."""

from app.models import Citizen, Ticket, utcnow
from app.schemas.tickets import (
    AddressOut,
    CitizenOut,
    CodeName,
    Deadlines,
    TerritoryRef,
    TicketRead,
)
from app.services.deadlines import breached_stages
from app.services.reference import ReferenceData


def ticket_view(
    ticket: Ticket,
    ref: ReferenceData,
    citizen: Citizen | None = None,
    allowed: list[str] | None = None,
) -> TicketRead:
    """The ticket as a reader sees it; ``citizen`` only for readers entitled to personal data."""
    category = ref.categories[ticket.category_id]
    provider = ref.providers.get(ticket.provider_id) if ticket.provider_id else None
    territory = ref.territories.get(ticket.territory_id) if ticket.territory_id else None
    return TicketRead(
        number=ticket.number,
        kind=ticket.kind,
        channel=ticket.channel,
        status=ticket.status,
        priority=ticket.priority,
        category=CodeName(code=category.code, name=category.name),
        description=ticket.description,
        address=AddressOut(
            settlement=ticket.settlement,
            street=ticket.street,
            house=ticket.house,
            apartment=ticket.apartment,
            text=ticket.address_text,
            lat=ticket.lat,
            lon=ticket.lon,
        ),
        territory=TerritoryRef(code=territory.code, name=territory.name, kind=territory.kind.value)
        if territory
        else None,
        provider=CodeName(code=provider.code, name=provider.name) if provider else None,
        executor=ticket.executor,
        citizen=citizen_view(citizen) if citizen else None,
        call_id=ticket.call_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        routed_at=ticket.routed_at,
        accepted_at=ticket.accepted_at,
        started_at=ticket.started_at,
        resolved_at=ticket.resolved_at,
        confirmed_at=ticket.confirmed_at,
        closed_at=ticket.closed_at,
        due=Deadlines(
            acknowledge=ticket.ack_due_at,
            resolve=ticket.resolve_due_at,
            statutory=ticket.statutory_due_at,
            breached=breached_stages(ticket, utcnow()),
        ),
        resolution=ticket.resolution,
        evidence_url=ticket.evidence_url,
        work_order=ticket.work_order,
        reopen_count=ticket.reopen_count,
        close_reason=ticket.close_reason,
        rating=ticket.rating,
        rating_comment=ticket.rating_comment,
        allowed_actions=allowed or [],
    )


def citizen_view(citizen: Citizen) -> CitizenOut:
    if citizen.erased_at is not None:
        return CitizenOut()
    return CitizenOut(
        name=citizen.name,
        phone=citizen.phone,
        email=citizen.email,
        preferred_channel=citizen.preferred_channel,
    )
