"""Types of the generated validator (scripts/policy_validator.py writes the module)."""

from typing import Any

VERSION: str

def validate(
    data: Any, custom_formats: dict[str, Any] = ..., name_prefix: str | None = ...
) -> Any: ...
