"""API keys."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from app.models import Role


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    role: Role
    #: Required for role=provider: the provider the key acts for.
    provider_code: str | None = None


class KeyRead(BaseModel):
    id: int
    name: str
    role: Role
    provider_code: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    #: The secret, shown this once. Send it as 'Authorization: Bearer <key>'.
    key: str
