"""What an integrator shows the citizen: a short Ukrainian text per step, and the confirm/reject actions.

The citizen token is stored only hashed, so the actions are the confirm/reject endpoints: the
integrator calls them with its own key, or with ``X-Citizen-Token`` holding the token it kept from
the creation response.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")

CLOSE_REASONS = {
    "no_response": "без вашої відповіді після виконання",
    "consultation": "надано консультацію",
    "duplicate": "як повторне",
    "withdrawn": "за вашою заявою",
    "invalid": "як таке, що не підлягає розгляду",
}


def _date(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).astimezone(KYIV).strftime("%d.%m.%Y")
    except ValueError:
        return None


def _text(event: str, ticket: dict[str, Any], data: dict[str, Any]) -> str | None:
    number = ticket.get("number", "")
    provider = (ticket.get("provider") or {}).get("name")
    due = _date((ticket.get("due") or {}).get("statutory"))
    until = f" Термін розгляду — до {due}." if due else ""
    if event == "received":
        return f"Ваше звернення зареєстровано за № {number}. Ми повідомимо, хто і коли його виконає."
    if event == "routed":
        return f"Звернення № {number} передано виконавцю: {provider}.{until}"
    if event == "deadline_extended":
        extended = _date(data.get("until")) or due
        return f"Термін розгляду звернення № {number} продовжено" + (f" до {extended}." if extended else ".")
    if event == "resolved":
        resolution = ticket.get("resolution") or ""
        return (
            f"За зверненням № {number} виконавець повідомив про виконання: {resolution} "
            "Чи вирішено вашу проблему?"
        )
    if event == "reopened":
        return f"Звернення № {number} повернуто в роботу виконавцю: {provider}."
    if event == "confirmed":
        return f"Дякуємо! Виконання звернення № {number} підтверджено."
    if event == "closed":
        reason = CLOSE_REASONS.get(str(ticket.get("close_reason")), "")
        return f"Звернення № {number} закрито" + (f" ({reason})." if reason else ".")
    return None


def citizen_message(event_type: str, payload: dict[str, Any], base_url: str) -> dict[str, Any] | None:
    """The text (and for ``ticket.resolved`` the actions) for the step, or None if the citizen need not hear."""
    ticket = payload.get("ticket") or {}
    text = _text(event_type.removeprefix("ticket."), ticket, payload.get("data") or {})
    if text is None:
        return None
    message: dict[str, Any] = {"text": text}
    if event_type == "ticket.resolved":
        path = f"{base_url.rstrip('/')}/api/v1/tickets/{ticket.get('number', '')}"
        auth = "X-Citizen-Token: <citizen_token from the creation response>, or the integrator's key"
        message["actions"] = [
            {
                "action": "confirm",
                "label": "Так, вирішено",
                "method": "POST",
                "url": f"{path}/confirm",
                "body": {"rating": "1–5, optional", "comment": "optional"},
                "auth": auth,
            },
            {
                "action": "reject",
                "label": "Ні, не вирішено",
                "method": "POST",
                "url": f"{path}/reject",
                "body": {"reason": "required: what is still wrong"},
                "auth": auth,
            },
        ]
    return message
