"""The decision engine: ``evaluate(policy, facts, now) -> Decision``; pure, no I/O.

Every door (git hook, CI check, audit, gateway) calls :func:`evaluate`; a rule lives here once.

Names are imported on first use (PEP 562), as in ``twokey.policy``: a deploy check loads the
deploy rules and the renderer, not the ref-update, review, shape or strictness modules (start-up
time, issue 10 item 9; ADR 0040).
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing typing costs start-up time (see twokey.git).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from twokey.engine._evaluate import evaluate, evaluate_safely
    from twokey.engine._render import decision_from_dict, decision_json, explain
    from twokey.engine._review import evaluate_review
    from twokey.engine._shape import ChangeShape, approval_shapes, shape_of
    from twokey.engine._strictness import at_least_as_strict

_LAZY = {
    "ChangeShape": "twokey.engine._shape",
    "approval_shapes": "twokey.engine._shape",
    "at_least_as_strict": "twokey.engine._strictness",
    "decision_from_dict": "twokey.engine._render",
    "decision_json": "twokey.engine._render",
    "evaluate": "twokey.engine._evaluate",
    "evaluate_review": "twokey.engine._review",
    "evaluate_safely": "twokey.engine._evaluate",
    "explain": "twokey.engine._render",
    "shape_of": "twokey.engine._shape",
}

__all__ = [
    "ChangeShape",
    "approval_shapes",
    "at_least_as_strict",
    "decision_from_dict",
    "decision_json",
    "evaluate",
    "evaluate_review",
    "evaluate_safely",
    "explain",
    "preload",
    "shape_of",
]


# mypy sees only the typed imports above, so a name that is not exported is an error there;
# at run time the names load on first use (PEP 562).
if not TYPE_CHECKING:
    from twokey._lazy import lazy_names

    __getattr__ = lazy_names(__name__, _LAZY, globals())


def preload() -> None:
    """Import every module of the engine now, the ref-update rules too (the warm hook server,
    before it forks: each child then starts with them loaded)."""
    from twokey.engine import _evaluate, _render, _review, _shape, _strictness  # noqa: F401, PLC0415

    _evaluate.loaded_ref_rules()
    _evaluate.loaded_deploy_rules()


def __dir__() -> list[str]:
    return sorted(__all__)
