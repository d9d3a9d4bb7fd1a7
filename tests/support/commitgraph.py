"""A forged commit-graph, as an earlier step of a CI or deploy job could write one."""

from __future__ import annotations

import hashlib
import struct
import subprocess
from pathlib import Path


def forge_commit_graph(repo: Path, commit: str, parent: str) -> None:
    """Write the clone's commit-graph, then move ``commit``'s first parent to ``parent`` in it
    (its CDAT record) and seal the file's checksum again, as an earlier job step could."""
    subprocess.run(["git", "-C", str(repo), "commit-graph", "write", "--reachable"], check=True)
    path = repo / ".git" / "objects" / "info" / "commit-graph"
    data = bytearray(path.read_bytes())
    chunks = {}
    for n in range(data[6] + 1):  # the table of contents: id, offset; a terminating entry
        at = 8 + n * 12
        chunks[bytes(data[at : at + 4])] = struct.unpack(">Q", data[at + 4 : at + 12])[0]
    oids, cdat = chunks[b"OIDL"], chunks[b"CDAT"]
    ids = [data[at : at + 20].hex() for at in range(oids, cdat, 20)]
    struct.pack_into(">I", data, cdat + ids.index(commit) * 36 + 20, ids.index(parent))
    data[-20:] = hashlib.sha1(bytes(data[:-20])).digest()  # the file checksum git verifies
    path.write_bytes(bytes(data))
