"""Phone numbers in E.164, read the way Ukrainian callers write them."""

import phonenumbers

from app.errors import InvalidInput


def normalize_phone(raw: str, region: str = "UA") -> str:
    """E.164 form of a number ('0671234567', '+380 67 123 45 67', '380671234567' all agree)."""
    candidate = raw.strip()
    if candidate.isdigit() and candidate.startswith("380") and len(candidate) == 12:
        candidate = "+" + candidate
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{raw!r} is not a phone number.", field="phone") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput(f"{raw!r} is not a possible phone number.", field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(raw: str | None, region: str = "UA") -> str | None:
    """E.164 when the text is a phone number, else None (anonymous or withheld callers)."""
    if not raw:
        return None
    try:
        return normalize_phone(raw, region)
    except InvalidInput:
        return None
