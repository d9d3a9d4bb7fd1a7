"""Who wrote the change, as far as anything proves it (invariant 3, ADR 0012).

An author line is a claim anyone can type. Two rules keep that claim from letting one person
through alone:

* ``unknown_authors`` (default ``deny``): every author, committer and co-author of a commit that
  brings content must resolve to someone in the policy (exactly, through a sub-address or a
  forge no-reply address, or as a look-alike), or the update is denied ``UNKNOWN_AUTHOR``:
  nobody's approval can be checked against a stranger.
* ``signed_commits: true``: every commit the update brings (merges too) carries a valid SSH
  signature, at the door's time, by a registered key of the very principal its author line
  resolves to; otherwise ``UNSIGNED_COMMIT`` or ``AUTHOR_SIGNATURE_MISMATCH``. A signature by
  the committer, when the committer is not the author, proves who made the commit object,
  not who wrote it: it is a mismatch.
"""

from __future__ import annotations

__all__ = ["authorship_findings"]

from collections.abc import Iterator
from datetime import datetime

from twokey.engine._cache import PolicyIndex, index_of
from twokey.engine._people import short
from twokey.model import Change, Commit, CommitSignature, Finding, FindingCode, Ident, Severity
from twokey.policy import Policy, RefRule

_LISTED = 5
_SIGN = (
    "sign each commit with your registered SSH key (git config gpg.format ssh; "
    "git config user.signingkey ~/.ssh/id_ed25519.pub; git commit -S), then push again"
)


def authorship_findings(
    policy: Policy, change: Change, rule: RefRule, now: datetime
) -> list[Finding]:
    """``UNKNOWN_AUTHOR``, ``UNSIGNED_COMMIT`` and ``AUTHOR_SIGNATURE_MISMATCH`` for ``change``.

    Steps: (1) unless the rule allows unknown authors, each identity of each commit that
    brings content must resolve to a principal; (2) when the rule asks for signed commits,
    each commit's signature must verify (the git layer says so), its key must be registered,
    not revoked and inside its window at ``now``, and belong to the author's principal.
    """
    index = index_of(policy)
    found: dict[tuple[FindingCode, str, str], list[str]] = {}
    if not rule.allow_unknown_authors and not _all_known(index, change.commits):
        for ident, role, sha in _identities(change.commits):
            if not index.principals_of(ident.email, ident.name):
                found.setdefault((FindingCode.UNKNOWN_AUTHOR, _spell(ident), role), []).append(sha)
    if rule.signed_commits:
        for commit in change.commits:
            code, why = _signature(policy, index, commit, now)
            if code is not None:
                found.setdefault((code, why, ""), []).append(commit.sha)
    return [_finding(code, what, role, shas, rule) for (code, what, role), shas in found.items()]


def _all_known(index: PolicyIndex, commits: tuple[Commit, ...]) -> bool:
    """The fast path: every distinct identity of every commit (merges too) is known.

    A change has few distinct people and many commits, so this is a few set operations; the
    per-commit walk that names the culprits runs only when someone is unknown.
    """
    emails = {c.author.email for c in commits}
    emails.update([c.committer.email for c in commits])
    emails.update([i.email for c in commits for i in c.co_authors])
    claims = index.principals_of  # depends on the email alone
    return all(claims(email, "") for email in emails)


def _identities(commits: tuple[Commit, ...]) -> Iterator[tuple[Ident, str, str]]:
    """Author, committer and co-authors of each commit that brings content (a clean merge
    brings none: its merger is not an author, as in ``roles_of``)."""
    for commit in commits:
        if commit.clean_merge is True and commit.is_merge:
            continue
        yield commit.author, "author", commit.sha
        yield commit.committer, "committer", commit.sha
        for ident in commit.co_authors:
            yield ident, "co-author", commit.sha


def _spell(ident: Ident) -> str:
    return f"{ident.name} <{ident.email}>"


def _signature(
    policy: Policy, index: PolicyIndex, commit: Commit, now: datetime
) -> tuple[FindingCode | None, str]:
    """Whether ``commit`` is signed by its author's key: (None, '') or (code, reason)."""
    signer, unsigned = _signer(policy, index, commit.signature, now)
    if signer is None:
        return FindingCode.UNSIGNED_COMMIT, unsigned
    author = index.principals_of(commit.author.email, commit.author.name)
    if signer in author:
        return None, ""
    claimed = ", ".join(author) or "nobody in the policy"
    return (
        FindingCode.AUTHOR_SIGNATURE_MISMATCH,
        f"signed by {signer}, but the author line names {claimed}",
    )


def _signer(
    policy: Policy, index: PolicyIndex, signature: CommitSignature | None, now: datetime
) -> tuple[str | None, str]:
    """The principal whose admitted key made ``signature``, or None and why not."""
    if signature is None:
        return None, "no signature"
    if signature.format != "ssh" or signature.key is None:
        return None, f"a {signature.format} signature (only SSH signatures are read)"
    if not signature.valid:
        return None, "a signature that does not verify"
    signer = index.principal_id(signature.key)
    if signer is None:
        return None, "a signature by a key the policy does not register"
    validity = policy.key_validity.get(signature.key)
    if validity is not None and not validity.valid_at(now):
        state = "revoked" if validity.revoked else "outside its validity window"
        return None, f"a signature by a key of {signer} that is {state}"
    return signer, ""


def _finding(code: FindingCode, what: str, role: str, shas: list[str], rule: RefRule) -> Finding:
    listed = ", ".join(short(s) for s in shas[:_LISTED]) + (", ..." if len(shas) > _LISTED else "")
    plural = "s" if len(shas) > 1 else ""
    if code is FindingCode.UNKNOWN_AUTHOR:
        return Finding(
            code,
            Severity.DENY,
            f"{what}, {role} of commit{plural} {listed}, is nobody in the policy",
            "commit as a person the policy names (their email under people:), or add this "
            "person; a project with outside contributors may set unknown_authors: allow",
            rule.rule,
            commits=tuple(shas),
        )
    satisfy = (
        _SIGN
        if code is FindingCode.UNSIGNED_COMMIT
        else "each author signs their own commits with their registered key; a committer's "
        "signature does not prove who wrote a commit"
    )
    message = f"commit{plural} {listed}: {what}"
    return Finding(code, Severity.DENY, message, satisfy, rule.rule, commits=tuple(shas))
