"""Forge evidence of an audit: the approvals ``twokey forge import`` read from GitHub or
GitLab, kept in ``$GIT_DIR/twokey/forge/*.json`` (docs/forges.md, "History import").

Each approval becomes an :class:`Approval` with trust ``forge`` for the reviewed head commit
and its tree (read from this repository; a head it lacks binds to nothing), indexed also under
the commit that landed (the merge or squash commit), so the walk finds it for that change.
Whether it counts is the engine's decision, as for every source: the login must be a person
of the policy (``github: bob``), not an author, and the head it approved must land as is.
Approvals by bots and apps are never counted, and are counted here as ignored.
"""

from __future__ import annotations

__all__ = ["ForgeEvidence"]

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from twokey.errors import UsageError
from twokey.git import GitRunner as Git
from twokey.model import Alias, AliasKind, Approval, TrustLevel

_KINDS = {"github": AliasKind.GITHUB, "gitlab": AliasKind.GITLAB}
_TREE_OF_MISSING = ""  # a head this repository lacks: the approval binds to no content


@dataclass
class ForgeEvidence:
    """Imported forge approvals by commit and tree, for one audited ref."""

    approvals: dict[str, list[Approval]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    count: int = 0
    bots: int = 0
    missing: int = 0  # approvals of heads this repository does not have

    @classmethod
    def read(cls, git: Git, repository: str, ref: str) -> ForgeEvidence:
        """Every import file under ``$GIT_DIR/twokey/forge/``.

        Raises:
            UsageError: a file is not an import file (named, with the reason).
        """
        found = cls()
        folder = git.git_dir / "twokey" / "forge"
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            found.files.append(path.name)
            found._add_file(git, path, repository, ref)
        return found

    def _add_file(self, git: Git, path: Path, repository: str, ref: str) -> None:
        data = _load(path)
        forge, repo = data["forge"], data["repository"]
        entries = [c for c in data["changes"].values() if c["base_ref"] == ref]
        reviews = [(c, a) for c in entries for a in c["approvals"]]
        trees = _trees(git, {a["commit"] for _, a in reviews})
        for change, review in reviews:
            if review["bot"]:
                self.bots += 1
                continue
            tree = trees.get(review["commit"], _TREE_OF_MISSING)
            self.missing += tree == _TREE_OF_MISSING
            approval = Approval(
                repository=repository,
                ref=ref,
                commit=review["commit"],
                tree=tree or review["commit"],
                signer=Alias(_KINDS[forge], review["login"]),
                time=datetime.fromisoformat(review["time"]),
                trust=TrustLevel.FORGE,
                source=f"{forge} review by {review['login']} of {repo} #{change['number']}",
                evidence_id=f"{forge}:{repo}:review:{review['review_id']}",
            )
            self.count += 1
            for key in {approval.commit, tree, change["landed"]} - {""}:
                self.approvals.setdefault(key, []).append(approval)

    def keys(self) -> set[str]:
        """The commits and trees the approvals are filed under (not simple for the walk)."""
        return set(self.approvals)

    def describe(self) -> str:
        """For the report's sources line."""
        if not self.files:
            return "forge import: none ($GIT_DIR/twokey/forge/; see twokey forge import)"
        text = (
            f"forge import ({', '.join(self.files)}): {self.count} approval(s) for this ref "
            "(trust: forge)"
        )
        if self.bots:
            text += f"; {self.bots} by bots or apps ignored"
        if self.missing:
            text += f"; {self.missing} of heads missing here (fetch refs/pull/*/head)"
        return text


def _load(path: Path) -> dict[str, Any]:
    """An import file, checked once: the fields the audit reads, with their types."""
    try:
        data = json.loads(path.read_text())
        if data.get("version") != 1 or data.get("forge") not in _KINDS:
            raise ValueError("not a version 1 import of github or gitlab")
        for change in data["changes"].values():
            _check_change(change)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"{path}: not a forge import file ({exc}); run twokey forge import"
        ) from exc
    return dict(data)


def _check_change(change: dict[str, Any]) -> None:
    for key in ("base_ref", "landed"):
        if not isinstance(change[key], str):
            raise TypeError(f"{key} is not a string")
    if not isinstance(change["number"], int):
        raise TypeError("number is not an integer")
    for review in change["approvals"]:
        for key in ("login", "commit", "time", "review_id"):
            if not isinstance(review[key], str) or not review[key]:
                raise TypeError(f"approval {key} is not a string")
        datetime.fromisoformat(review["time"])
        Alias(AliasKind.GITHUB, review["login"])  # an empty or padded login: ValueError
        if not isinstance(review["bot"], bool):
            raise TypeError("approval bot is not true or false")


def _trees(git: Git, commits: set[str]) -> dict[str, str]:
    """The tree of each commit this repository has (one ``git cat-file`` for all)."""
    if not commits:
        return {}
    ordered = sorted(commits)
    stdin = "".join(f"{c}^{{tree}}\n" for c in ordered).encode()
    out = git.run("cat-file", "--batch-check=%(objectname) %(objecttype)", stdin=stdin)
    trees = {}
    for commit, line in zip(ordered, out.decode().splitlines(), strict=True):
        name, _, kind = line.partition(" ")
        if kind == "tree":
            trees[commit] = name
    return trees
