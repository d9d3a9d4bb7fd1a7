"""A child process that appends like a door: a batch, then a signed checkpoint (ADR 0015).

Usage: python -m tests.integration.ledger.signing_appender URL NAME COUNT BATCH KEYFILE

After each committed batch it prints ``<first index> <last index> <first n>`` (a promise the
log must keep, even across SIGKILL), then signs a checkpoint of the log as it is.
"""

from __future__ import annotations

import sys
from pathlib import Path

from twokey.ledger import NoteSigner, open_ledger


def payload(name: str, n: int) -> bytes:
    """The exact bytes of entry ``n`` of appender ``name``."""
    return f'{{"w":"{name}","n":{n}}}'.encode()


def run(url: str, name: str, count: int, batch: int, key: Path) -> None:
    signer = NoteSigner.parse(key.read_text())
    with open_ledger(url) as ledger:
        for start in range(0, count, batch):
            datas = [payload(name, n) for n in range(start, min(count, start + batch))]
            indices = ledger.append_raw(datas)
            sys.stdout.write(f"{indices[0]} {indices[-1]} {start}\n")
            sys.stdout.flush()
            ledger.checkpoint(signer)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
