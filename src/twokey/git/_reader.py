"""Facts from git for one ref update, with few process spawns and no full-history walk.

Per update: one ``git cat-file --batch-check`` for what the old and new tips name, one
``git log --stdin`` for the commits it brings (``new ^old ^<already reviewed tips>``), one
``git merge-base --is-ancestor`` for a fast-forward, one ``git diff --name-only`` for the
paths, one ``git merge-tree --stdin`` for all the merge commits it brings (git-merge-tree(1),
git 2.39+: the lone ``--write-tree`` merge per line, ADR 0030) and one ``git merge-tree
--write-tree`` per approved head other than the new tip (:meth:`GitReader.landings`). Each of
these stops at the merge base; none walks the repository's whole history.
"""

from __future__ import annotations

__all__ = ["GitReader", "RefTip"]

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from twokey._evidence_refs import NAMESPACE
from twokey._gitrunner import GitConfig, GitRunner
from twokey._lazy import lazy_pattern
from twokey.errors import InfrastructureError
from twokey.git._commits import LOG_ARGS, parse_log
from twokey.git._order import reachable_within
from twokey.model import ZERO_SHA, Alias, Change, Commit, Landing

# The whole of twokey's namespace, not only its evidence: a push that creates evidence refs
# needs every ref there (a squatter of a new ref's directory), once (ADR 0037).
SNAPSHOT_PREFIXES = ("refs/heads/", "refs/tags/", NAMESPACE)
_SNAPSHOT_ARGS = ("for-each-ref", "--format=%(objectname) %(refname)", *SNAPSHOT_PREFIXES)
_MERGES_KEPT = 4096  # merge-tree results remembered (an audit reads many merges)
_OID = lazy_pattern(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?", globals())  # when first used (ADR 0040)


def _pairs(out: str) -> list[tuple[str, str, str]]:
    return [line.partition(" ") for line in out.splitlines()]


def _clean(commit: Commit, trees: Mapping[tuple[str, str], str]) -> bool:
    """A merge's tree is exactly the clean merge of its two parents (octopus: never)."""
    if len(commit.parents) != 2:
        return False
    tree = trees[commit.parents[0], commit.parents[1]]
    return bool(tree) and tree == commit.tree


# One record of ``git merge-tree --stdin --name-only``: clean, its tree (with conflict markers
# when not clean) and the conflicted paths.
_Merged = tuple[bool, str, tuple[str, ...]]


def _merge_records(out: bytes, most: int) -> list[_Merged]:
    """The complete records of ``git merge-tree --stdin --name-only`` output, in order; stops
    at the first record not of that shape."""
    fields = out.split(b"\0")  # the last one is what follows the last NUL: b"" when complete
    found: list[_Merged] = []
    at = 0
    while len(found) < most and at + 2 < len(fields):
        clean, tree = fields[at], fields[at + 1]
        if clean not in (b"0", b"1") or not _OID.fullmatch(tree):
            break
        end = at + 2
        while end < len(fields) - 1 and fields[end]:
            end += 1  # conflicted paths (never empty) up to the empty field that ends a record
        if end == len(fields) - 1 or (clean == b"1" and end != at + 2):
            break  # cut short, or a clean merge listing conflicts: not what git prints
        names = (f.decode("utf-8", errors="surrogateescape") for f in fields[at + 2 : end])
        found.append((clean == b"1", tree.decode(), tuple(dict.fromkeys(names))))
        at = end + 1
    return found


@dataclass(frozen=True, slots=True)
class RefTip:
    """A ref and the object it points at."""

    ref: str
    sha: str


class GitReader:
    """Reads the facts of ref updates from a repository.

    Args:
        git_dir: the repository's git directory (a bare repository, or ``.git``).
        env: the environment for git (the hook's, so that quarantined objects are visible).
        commit_graph: read parents from the repository's commit-graph (the audit only: a gate
            reads them from the commits, as a forged commit-graph could hide some).
    """

    def __init__(
        self, git_dir: Path, env: Mapping[str, str] | None = None, *, commit_graph: bool = False
    ) -> None:
        self.git = GitRunner(git_dir, config=GitConfig.ISOLATED, env=env, commit_graph=commit_graph)
        self._snapshot: list[RefTip] | None = None
        self._merges: dict[tuple[str, str], str] = {}  # (ours, theirs) -> clean merge tree
        self._auto: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}  # see auto_merge
        self._trees: dict[str, str] = {}  # commit id -> its tree, as git log read it

    def refs(self, *prefixes: str) -> list[RefTip]:
        """Refs under ``prefixes``, from one ``for-each-ref`` of branches, tags and twokey's
        namespace (evidence and artifacts).

        The snapshot is read once per reader: within one push, refs do not move (git updates
        them only after the pre-receive hook answered).
        """
        if self._snapshot is None:
            out = self.git.text(*_SNAPSHOT_ARGS)
            self._snapshot = [RefTip(ref, sha) for sha, _, ref in _pairs(out)]
        if not all(p.startswith(SNAPSHOT_PREFIXES) for p in prefixes):
            out = self.git.text("for-each-ref", "--format=%(objectname) %(refname)", *prefixes)
            return [RefTip(ref, sha) for sha, _, ref in _pairs(out)]
        return [t for t in self._snapshot if t.ref.startswith(prefixes)]

    def head_ref(self) -> str:
        """The ref HEAD names (the default branch of a bare repository).

        Read from ``$GIT_DIR/HEAD`` (gitrepository-layout(5)) to save a process; anything but
        a plain symbolic ref there is asked of git.
        """
        try:
            text = (self.git.git_dir / "HEAD").read_text().strip()
        except OSError:
            text = ""
        if text.startswith("ref: refs/"):
            return text.removeprefix("ref: ")
        return self.git.text("symbolic-ref", "-q", "HEAD")

    def resolve(self, rev: str) -> str | None:
        """The object id ``rev`` names, or None when it names nothing."""
        result = self.git.call(["rev-parse", "-q", "--verify", rev], ok=(0, 1))
        return result.out.decode().strip() or None if result.code == 0 else None

    def blob_at(self, rev: str, path: str) -> tuple[str, bytes] | None:
        """``(blob id, bytes)`` of ``path`` in ``rev``; None when either does not exist.

        One ``git cat-file --batch`` resolves and reads it (git-cat-file(1), "BATCH OUTPUT").
        """
        out = self.git.call(["cat-file", "--batch"], stdin=_blob_input(rev, path)).out
        header, _, rest = out.partition(b"\n")
        fields = header.decode(errors="replace").split()
        if len(fields) != 3 or fields[1] != "blob":
            return None  # "<name> missing" (or a tree where a file was expected)
        return fields[0], rest[: int(fields[2])]

    def is_shallow(self) -> bool:
        """True for a shallow clone, whose history is cut and cannot be judged.

        git's own test (``is_repository_shallow``: a ``shallow`` file in the common directory
        that opens; the gate's git reads no other, ``_gitrunner``), without starting git. A
        ``commondir`` that cannot be read counts as shallow: refused, not guessed.
        """
        git_dir = self.git.git_dir
        try:
            pointer = git_dir / "commondir"
            common = git_dir / pointer.read_text().strip() if pointer.is_file() else git_dir
            return (common / "shallow").exists()
        except OSError:
            return True

    def change(
        self,
        ref: str,
        old: str,
        new: str,
        *,
        repository: str,
        pusher: Alias | None = None,
        exclude: Iterable[str] = (),
        signatures: bool = False,
    ) -> Change:
        """The facts of updating ``ref`` from ``old`` to ``new``.

        Args:
            ref: the full ref name.
            old: the current object id (``ZERO_SHA`` for a creation).
            new: the proposed object id (``ZERO_SHA`` for a deletion).
            repository: the repository id approvals are bound to.
            pusher: who asks for the update, when known.
            exclude: object ids (tips of other protected refs) whose history is already
                judged; their commits are not part of this change.
            signatures: also verify each commit's signature (``gpg.format=ssh``, as
                ``git verify-commit`` does) into ``Commit.signature``; one more git process.
        """
        if new == ZERO_SHA:
            return Change(repository, ref, old, new, pusher=pusher)
        failed: InfrastructureError | None = None
        try:
            commits = self.commits(new, [old, *exclude] if old != ZERO_SHA else list(exclude))
        except InfrastructureError as exc:
            commits, failed = None, exc  # not a commit (or missing): _tips says which
        head = next((c for c in reversed(commits or ()) if c.sha == new), None)
        if head is not None:  # the usual push: new is a commit the change brings
            new_tree, old_tree = head.tree, ""  # old's tree only when landings need it
        else:
            new_type, new_tree, old_tree = self._tips(old, new)
            if not new_type:
                raise InfrastructureError(
                    f"{new[:12]} names no object in this repository",
                    hint="the push may be incomplete, or the repository is missing objects",
                )
            if new_type != "commit":  # a tag of a tree or blob: no history (ADR 0011)
                return Change(repository, ref, old, new, new_tree, pusher=pusher, new_type=new_type)
        if commits is None:
            raise failed or InfrastructureError(f"cannot read the commits of {new[:12]}")
        if signatures:
            commits = self.with_signatures(commits)
        fast_forward = old == ZERO_SHA or _has_parent(commits, old) or self.is_ancestor(old, new)
        if old == ZERO_SHA:
            paths = sorted({p for c in commits for p in c.paths})
        else:
            paths = self.diff_paths(old, new)
        return Change(
            repository=repository,
            ref=ref,
            old=old,
            new=new,
            new_tree=new_tree,
            commits=tuple(commits),
            fast_forward=fast_forward,
            paths=tuple(paths),
            pusher=pusher,
            old_tree=old_tree,
        )

    def _tips(self, old: str, new: str) -> tuple[str, str, str]:
        """(type ``new`` peels to, its commit's tree, ``old``'s commit's tree), one process.

        ``X^{}`` peels tags to whatever they name; ``X^{commit}^{tree}`` is "missing" unless
        ``X`` peels to a commit (gitrevisions(7)). Empty strings for what does not exist.
        """
        names = [f"{new}^{{}}", f"{new}^{{commit}}^{{tree}}"]
        if old != ZERO_SHA:
            names.append(f"{old}^{{commit}}^{{tree}}")
        found = self._batch_check(names)
        return found[0][1], found[1][0], found[2][0] if len(found) > 2 else ""

    def _batch_check(self, names: list[str]) -> list[tuple[str, str]]:
        """``(object id, type)`` per name, ``("", "")`` when missing (git-cat-file(1))."""
        stdin = "".join(f"{n}\n" for n in names).encode()
        out = self.git.call(["cat-file", "--batch-check"], stdin=stdin).out.decode()
        found = []
        for line in out.splitlines():
            fields = line.split()
            found.append((fields[0], fields[1]) if len(fields) == 3 else ("", ""))
        if len(found) != len(names):
            raise InfrastructureError("git cat-file --batch-check answered out of step")
        return found

    def old_tree(self, change: Change) -> Change:
        """``change`` with its old tree read (:meth:`change` leaves it out when cheap to);
        from :meth:`know_trees` when a commit's tree is known, else from git."""
        if change.old_tree or change.old == ZERO_SHA:
            return change
        tree = self._trees.get(change.old) or self.tree_of(change.old)
        return replace(change, old_tree=tree)

    def know_trees(self, trees: Iterable[tuple[str, str]]) -> None:
        """Remember commits' trees (commit id, tree id as ``git log`` printed ``%T``): a
        commit names one tree forever, so :meth:`old_tree` need not ask again."""
        if len(self._trees) >= _MERGES_KEPT:
            self._trees.clear()
        self._trees.update(trees)

    def landings(
        self,
        old: str,
        heads: Iterable[str],
        known: Mapping[str, str] | None = None,
        *,
        new_tree: str = "",
        reviewed: Iterable[str] = (),
        brought: Sequence[Commit] = (),
    ) -> list[Landing]:
        """What landing each approved head on ``old`` gives (DESIGN invariant 2, ADR 0011).

        Steps: (1) one ``cat-file --batch-check`` finds each head's commit tree (none for an
        unknown commit or a non-commit); (2) for a creation (``old`` is the null id) the
        landing is the head's own tree; (3) otherwise one ``git merge-tree --write-tree``
        per head (cached) gives the clean merge of ``old`` with it, "" on a conflict or for
        unrelated histories (merge-tree refuses them: fail closed); (4) for a landing that
        gives ``new_tree``, one ``git log`` reads the commits it brings (``head ^old
        ^reviewed``): their authors wrote what lands. ``known`` maps commits already read (the
        change's own) to their trees, sparing step (1) for them. ``brought``: exactly the
        commits of ``new ^old``, oldest first, when the caller has them: step (4) then takes a
        head's commits from them when their order is forced (``reachable_within``), else
        asks git.
        """
        order = sorted(set(heads))
        if not order:
            return []
        trees = dict((known or {}).items())
        unknown = [h for h in order if h not in trees]
        if unknown:
            found = self._batch_check([f"{h}^{{commit}}^{{tree}}" for h in unknown])
            trees.update((h, tree) for h, (tree, _) in zip(unknown, found, strict=True))
        out = []
        for head in order:
            tree = trees[head]
            if not tree:
                out.append(Landing(head, "", ""))
                continue
            landed = tree if old == ZERO_SHA else self.merge_tree(old, head)
            brings: tuple[Commit, ...] = ()
            if new_tree and landed == new_tree:
                excluded = [old, *reviewed]
                within = reachable_within(head, brought) if excluded == [old] else None
                if within is None:
                    within = self.commits(head, excluded, merges=False)
                brings = tuple(within)
            out.append(Landing(head, tree, landed, brings))
        return out

    def merge_tree(self, ours: str, theirs: str) -> str:
        """The tree of the clean merge of two commits, "" when there is none (cached)."""
        key = (ours, theirs)
        found = self._merges.get(key)
        if found is None:
            result = self.git.call(
                ["merge-tree", "--write-tree", "--no-messages", ours, theirs], ok=(0, 1, 128)
            )
            tree = result.out.decode().split("\n", 1)[0].strip()
            found = tree if result.code == 0 else ""
            if len(self._merges) >= _MERGES_KEPT:
                self._merges.clear()
            self._merges[key] = found
        return found

    def merge_trees(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """:meth:`merge_tree` of each pair, those not cached in one ``git merge-tree --stdin``.

        ``--stdin`` (git 2.39, git-merge-tree(1)) runs the very function a lone ``merge-tree
        --write-tree`` runs (``real_merge``) once per input line and prints ``<clean>NUL<tree>
        NUL``, then the conflicted paths (``--name-only``) and an empty field. git dies on a
        pair it refuses (unrelated histories, an unknown commit), after printing the merges
        before it: that pair is asked alone (the lone answer is the gate's) and the rest
        batched again. A record not of exactly that shape is not guessed at: it ends the
        batch the same way.
        """
        found: dict[tuple[str, str], str] = {}
        for key in pairs:
            cached = self._merges.get(key)
            if cached is not None:
                found[key] = cached
        todo = list(dict.fromkeys(key for key in pairs if key not in found))
        while todo:
            stdin = "".join(f"{ours} {theirs}\n" for ours, theirs in todo).encode()
            result = self.git.call(
                ["merge-tree", "--stdin", "--write-tree", "--name-only", "--no-messages"],
                stdin=stdin,
                ok=range(-256, 256),
            )
            records = _merge_records(result.out, len(todo))
            for key, (clean, tree, names) in zip(todo, records, strict=False):
                found[key] = tree if clean else ""
                self._auto[key] = (tree, names)
            if result.code == 0 and len(records) == len(todo):
                break
            if len(records) < len(todo):  # git stopped at (or mis-framed) this pair: alone
                key = todo[len(records)]
                found[key] = self.merge_tree(*key)
            todo = todo[len(records) + 1 :]
        if len(self._merges) + len(found) >= _MERGES_KEPT:
            self._merges.clear()
        if len(self._auto) >= _MERGES_KEPT:
            self._auto.clear()
        self._merges.update(found)
        return found

    def auto_merge(self, ours: str, theirs: str) -> tuple[str, tuple[str, ...]] | None:
        """git's own merge of two commits as :meth:`merge_trees` read it (its tree, conflict
        markers and all, and the conflicted paths), once; None when it did not read it."""
        return self._auto.pop((ours, theirs), None)

    def commits(self, new: str, exclude: Iterable[str], *, merges: bool = True) -> list[Commit]:
        """Commits reachable from ``new`` and from none of ``exclude``, oldest first.

        Merge commits come back with ``clean_merge`` set (see :meth:`clean_merge`; all of them
        by one process, :meth:`clean_merges`) unless ``merges`` is false (then their authors
        count as authors: stricter, and no merge-tree).
        """
        data = self.git.call([*LOG_ARGS], stdin=_log_input(new, exclude)).out
        found = parse_log(data)
        return self.clean_merges(found) if merges else found

    def start_reads(self, policy_path: str) -> None:
        """Start the first reads of a door on the server now (``GitRunner.start``, ADR 0035):
        the refs' snapshot (:meth:`refs`) and the policy file on the default branch
        (:meth:`blob_at` of :meth:`head_ref`, when HEAD names a branch plainly)."""
        self.git.start(*_SNAPSHOT_ARGS)
        try:
            text = (self.git.git_dir / "HEAD").read_text().strip()
        except OSError:
            return
        if text.startswith("ref: refs/"):
            self.git.start("cat-file", "--batch", stdin=_blob_input(text[5:], policy_path))

    def start_change(self, old: str, new: str, exclude: Iterable[str]) -> None:
        """Start what :meth:`change` of ``old -> new`` (with the same ``exclude``) asks git
        first, together, now (``GitRunner.start``, ADR 0037): the ``git log`` of its commits
        and, for an update of an existing ref, the ``git diff`` of its paths."""
        if new == ZERO_SHA:
            return
        self.start_commits(new, [old, *exclude] if old != ZERO_SHA else list(exclude))
        if old != ZERO_SHA:
            self.git.start(*_diff_args(old, new))

    def start_commits(self, new: str, exclude: Iterable[str]) -> None:
        """Start the ``git log`` of :meth:`commits` now (``GitRunner.start``, ADR 0035): the
        same call later takes its answer."""
        self.git.start(*LOG_ARGS, stdin=_log_input(new, exclude))

    def with_signatures(self, commits: list[Commit]) -> list[Commit]:
        """``commits`` with ``signature`` set from their raw objects (one ``cat-file --batch``).

        Unsigned commits keep ``None``; see ``twokey.evidence.verify_commit_signature``.
        """
        from twokey.evidence import verify_commit_signature  # noqa: PLC0415 - lazy: start-up

        if not commits:
            return commits
        stdin = "".join(f"{c.sha}\n" for c in commits).encode()
        data = self.git.call(["cat-file", "--batch"], stdin=stdin).out
        out, pos = [], 0
        for commit in commits:
            end = data.index(b"\n", pos)
            size = int(data[pos:end].split()[2])
            raw = data[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
            out.append(replace(commit, signature=verify_commit_signature(raw)))
        return out

    def clean_merges(self, commits: list[Commit]) -> list[Commit]:
        """``commits`` with each merge's ``clean_merge`` set as :meth:`clean_merge` sets it,
        the merge-trees of all of them in one process (:meth:`merge_trees`)."""
        pairs = [(c.parents[0], c.parents[1]) for c in commits if len(c.parents) == 2]
        trees = self.merge_trees(pairs) if pairs else {}
        return [replace(c, clean_merge=_clean(c, trees)) if c.is_merge else c for c in commits]

    def clean_merge(self, commit: Commit) -> bool:
        """True when a merge commit's tree is exactly the clean merge of its parents.

        Octopus merges (more than two parents) are never judged clean: git-merge-tree(1)
        merges two commits, and an unverifiable merge must fail closed (invariant 8).
        """
        if len(commit.parents) != 2:
            return False
        key = (commit.parents[0], commit.parents[1])
        return _clean(commit, {key: self.merge_tree(*key)})

    def is_ancestor(self, old: str, new: str) -> bool:
        """True when ``old`` is an ancestor of ``new`` (the update is a fast-forward)."""
        result = self.git.call(["merge-base", "--is-ancestor", old, new], ok=(0, 1, 128))
        if result.code == 128:
            raise InfrastructureError(
                f"cannot tell whether {old[:7]} is an ancestor of {new[:7]}: {result.err}",
                hint="the repository may be shallow or missing objects",
            )
        return result.code == 0

    def diff_paths(self, old: str, new: str) -> list[str]:
        """Paths whose content differs between the trees of ``old`` and ``new``."""
        out = self.git.call([*_diff_args(old, new)]).out
        return sorted(p for p in out.decode("utf-8", errors="surrogateescape").split("\0") if p)

    def tree_of(self, rev: str) -> str:
        """The tree id of a commit (or of the commit an annotated tag points at)."""
        tree = self.resolve(f"{rev}^{{tree}}")
        if tree is None:
            raise InfrastructureError(f"{rev[:12]} names no commit or tree in this repository")
        return tree


def _diff_args(old: str, new: str) -> tuple[str, ...]:
    return ("diff", "--name-only", "--no-renames", "-z", old, new, "--")


def _has_parent(commits: Sequence[Commit], old: str) -> bool:
    """True when one of ``commits`` (read from ``new``: each is reachable from it) has ``old``
    as a parent: then ``old`` is an ancestor of ``new``, and ``merge-base --is-ancestor`` need
    not be asked (ADR 0037). False says nothing (the commit above ``old`` may be excluded)."""
    return any(old in c.parents for c in commits)


def _log_input(new: str, exclude: Iterable[str]) -> bytes:
    """The revisions :data:`LOG_ARGS` reads from standard input: ``new``, not ``exclude``."""
    negatives = "".join(f"^{sha}\n" for sha in sorted(set(exclude)) if sha != ZERO_SHA)
    return f"{new}\n{negatives}".encode()


def _blob_input(rev: str, path: str) -> bytes:
    return f"{rev}:{path}\n".encode()
