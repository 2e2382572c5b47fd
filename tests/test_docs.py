"""The README stays true: every setting and every endpoint is findable from it."""

import re
from pathlib import Path

from fastapi import FastAPI

from app.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_setting() -> None:
    for name, field in Settings.model_fields.items():
        variable = (
            field.validation_alias if isinstance(field.validation_alias, str) else f"HOTLINE_{name.upper()}"
        )
        assert f"`{variable}`" in README, variable


def test_readme_names_every_endpoint(app: FastAPI) -> None:
    for path in app.openapi()["paths"]:
        static = [part for part in path.split("/") if part and not part.startswith("{")]
        last = re.sub(r"\.\{fmt\}$", "", static[-1])
        assert last in README, path
