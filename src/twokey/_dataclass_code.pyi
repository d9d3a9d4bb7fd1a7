"""Types of the generated table (scripts/dataclass_code.py writes the module)."""

from types import CodeType

PYTHON: tuple[int, int]
CODE: dict[str, CodeType]
