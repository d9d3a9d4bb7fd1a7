"""A child process that appends to a ledger and reports each acknowledged append.

Usage: python -m tests.integration.ledger.appender URL NAME COUNT BATCH

It prints the last index of every batch only after ``append_raw`` returned, i.e. after the
commit: a line on the pipe is a promise the log must keep, even across SIGKILL.
"""

from __future__ import annotations

import sys

from twokey.ledger import open_ledger


def run(url: str, name: str, count: int, batch: int) -> None:
    with open_ledger(url) as ledger:
        for start in range(0, count, batch):
            datas = [
                f'{{"w":"{name}","n":{i}}}'.encode()
                for i in range(start, min(count, start + batch))
            ]
            indices = ledger.append_raw(datas)
            sys.stdout.write(f"{indices[-1]}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
