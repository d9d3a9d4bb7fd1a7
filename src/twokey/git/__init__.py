"""Facts from a git repository: ranges, commits, trailers, signatures, evidence refs."""

from twokey.git._run import Git, GitError
from twokey.git._trailers import co_authors, parse_ident, parse_trailers

__all__ = ["Git", "GitError", "co_authors", "parse_ident", "parse_trailers"]
