"""Which registered principal a git identity (an email, a name) stands for (ADR 0012).

An author line is a claim, so resolution errs towards "this is that person": a person is
excluded from approving whatever carries any of their names, in any spelling that means them.

1. **Exactly**: the email, lower-cased, is an alias in the policy.
2. **Sub-addresses and forge no-reply addresses**: ``alice+wip@example.com`` is
   ``alice@example.com``; ``123+alice@users.noreply.github.com`` and
   ``alice@users.noreply.github.com`` are the GitHub login ``alice``;
   ``123-alice@users.noreply.gitlab.com`` is the GitLab login ``alice``.
3. **Look-alikes**: an email or login whose UTS #39 skeleton equals a registered one's
   (``аlice@example.com`` with a Cyrillic ``а``, ``aIice`` with a capital ``I``) is that person.
   Skeletons are compared case-blind (see ``_forms``), so a change of case cannot hide one.
4. **Names** (only when the email resolves to nobody): a name that looks like a registered
   person's name or id makes that person one of the identity's people too; the identity stays
   unknown (its email proved nothing), so ``unknown_authors`` still applies.

The skeleton (UTS #39, section 4) is NFD, then default-ignorable characters removed, then each
character replaced by its prototype from Unicode's confusables data, then NFD again. The data
is the ``confusables.json`` that the ``confusable_homoglyphs`` package ships (generated from
Unicode's ``confusables.txt``); it lists, for a prototype, every character confusable with it,
and for a character, its prototype. It is loaded on first use: an identity that resolves
exactly never pays for it.
"""

from __future__ import annotations

__all__ = ["Lookalikes", "derived_aliases", "skeleton"]

import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache

from twokey._lazy import lazy_pattern
from twokey.model import Alias, AliasKind

# Compiled when first used: most releases have no forge no-reply address (ADR 0040).
_GITHUB_NOREPLY = lazy_pattern(r"(?:[0-9]+\+)?(.+)", globals())
_GITLAB_NOREPLY = lazy_pattern(r"(?:[0-9]+-)?(.+)", globals())
_NOREPLY = {
    "users.noreply.github.com": (AliasKind.GITHUB, _GITHUB_NOREPLY),
    "users.noreply.gitlab.com": (AliasKind.GITLAB, _GITLAB_NOREPLY),
}
_MARK = "\u200e"  # left-to-right marks wrap right-to-left characters in the package's data
# Default-ignorable code points (UTS #39 skeleton step 2) that unicodedata cannot name: the
# format characters (category Cf) are dropped by category; these are not Cf.
_IGNORABLE = frozenset(
    (
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    )
)


def derived_aliases(address: str) -> tuple[tuple[Alias, str], ...]:
    """Aliases an email stands for besides itself, each with its spelling as written: its
    owner's forge login, or the address without its ``+tag`` (docs/policy.md, "Who an author
    is"). The spelling keeps the case, for look-alike matching (``aIice`` is not ``aiice``)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return ()
    if domain.lower() in _NOREPLY:
        forge, pattern = _NOREPLY[domain.lower()]
        match = pattern.fullmatch(local)
        # The login after the numeric id, and the whole local part (a login may be "123-x").
        logins = dict.fromkeys([match.group(1)] if match else [])
        logins[local] = None
        # An author email is anyone's text: a login that is blank once trimmed names nobody.
        return tuple((Alias.login(forge, login), login) for login in logins if login.strip())
    base = local.split("+", 1)[0]
    if base and base != local:
        written = f"{base}@{domain}"
        return ((Alias.email(written), written),)
    return ()


@cache
def _prototypes() -> Mapping[str, str]:
    """Character -> prototype, from the confusables data (loaded once, on first use)."""
    from confusable_homoglyphs.confusables import (  # noqa: PLC0415 - 900 kB: only when needed
        confusables_data,
    )

    data: dict[str, list[str]] = {
        key.replace(_MARK, ""): [e["c"].replace(_MARK, "") for e in entries]
        for key, entries in confusables_data.items()
    }
    out: dict[str, str] = {}
    for char, targets in data.items():
        if len(char) != 1 or len(targets) != 1:
            continue  # a prototype lists all its look-alikes; a character has one prototype
        (target,) = targets
        if len(target) == 1 and data.get(target) == [char] and char < target:
            continue  # a pair: either one is the prototype; the larger maps to the smaller
        out[char] = target
    return out


@cache
def _ascii_prototypes() -> Mapping[int, str]:
    """The prototypes of ASCII characters, as a ``str.translate`` table."""
    prototypes = _prototypes()
    return {n: prototypes[chr(n)] for n in range(128) if chr(n) in prototypes}


@lru_cache(maxsize=4096)
def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: two strings that look alike have the same one.

    ASCII text (most emails and names of a real history: hundreds of people, each read in
    three cases) is mapped by one table: NFD leaves ASCII as it is and no ASCII character is
    ignorable, so only the prototypes apply (property-tested against :func:`_skeleton`).
    """
    if text.isascii():
        mapped = text.translate(_ascii_prototypes())
        return mapped if mapped.isascii() else unicodedata.normalize("NFD", mapped)
    return _skeleton(text)


def _skeleton(text: str) -> str:
    """UTS #39 skeleton, step by step: NFD, drop ignorables, prototypes, NFD."""
    prototypes = _prototypes()
    chars = (
        prototypes.get(c, c)
        for c in unicodedata.normalize("NFD", text)
        if unicodedata.category(c) != "Cf" and ord(c) not in _IGNORABLE
    )
    return unicodedata.normalize("NFD", "".join(chars))


def _forms(text: str) -> set[str]:
    """What ``text`` looks like, case-blind (emails and logins are compared case-blind).

    Each of the lower, upper and written case is reduced to its skeleton, case-folded and
    reduced again: ``Iab@EXAMPLE.com`` (capital I) becomes ``lab@example.corn``, like
    ``lab@example.com``, and ``ALlCE`` meets ``alice`` through ``ALICE``.
    """
    return {skeleton(skeleton(t).casefold()) for t in (text, text.lower(), text.upper())}


class Lookalikes:
    """Registered emails, logins and names by skeleton, built once per policy on first use.

    Args:
        aliases: every alias of the policy and its principal id.
        names: person id -> the names a person goes by (their id and ``name``).
    """

    def __init__(self, aliases: Mapping[Alias, str], names: Mapping[str, Iterable[str]]) -> None:
        self._aliases: dict[tuple[AliasKind, str], set[str]] = {}
        for alias, pid in aliases.items():
            if alias.kind is not AliasKind.KEY:
                for form in _forms(alias.value):
                    self._aliases.setdefault((alias.kind, form), set()).add(pid)
        self._names: dict[str, set[str]] = {}
        for pid, spellings in names.items():
            for name in spellings:
                for form in _forms(" ".join(name.split())):
                    self._names.setdefault(form, set()).add(pid)

    def alias(self, alias: Alias, written: str) -> tuple[str, ...]:
        """Principal ids whose alias of ``alias``'s kind looks like ``alias`` as ``written``
        (in its original case), sorted."""
        found: set[str] = set()
        for form in _forms(written) | _forms(alias.value):
            found |= self._aliases.get((alias.kind, form), set())
        return tuple(sorted(found))

    def name(self, name: str) -> tuple[str, ...]:
        """Person ids whose name or id looks like ``name`` (sorted)."""
        found: set[str] = set()
        for form in _forms(" ".join(name.split())):
            found |= self._names.get(form, set())
        return tuple(sorted(found))
