"""The decision engine: ``evaluate(policy, facts, now) -> Decision``; pure, no I/O.

Every door (git hook, CI check, audit, gateway) calls :func:`evaluate`; a rule lives here once.
"""

from twokey.engine._evaluate import evaluate, evaluate_safely
from twokey.engine._render import decision_from_dict, decision_json, explain
from twokey.engine._review import evaluate_review
from twokey.engine._shape import ChangeShape, approval_shapes, shape_of
from twokey.engine._strictness import at_least_as_strict

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
    "shape_of",
]
