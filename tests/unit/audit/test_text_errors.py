"""The audit's text error handler: registered when an audit writes, not when it is imported."""

from __future__ import annotations

import subprocess
import sys

from twokey.audit import TEXT_ERRORS, text_errors

_IMPORT_ONLY = (
    "import codecs, twokey.audit, twokey.cli\n"
    "try:\n"
    f"    codecs.lookup_error({TEXT_ERRORS!r})\n"
    "except LookupError:\n"
    "    print('not registered')\n"
)


def test_importing_the_audit_registers_no_codec_error_handler() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_ONLY], capture_output=True, text=True, check=True
    )
    assert out.stdout == "not registered\n"


def test_each_byte_that_is_not_utf8_is_written_as_one_replacement_character() -> None:
    text = b"caf\xe9 \xff\xfe ok".decode("utf-8", "surrogateescape")
    assert text.encode("utf-8", text_errors()) == "caf\ufffd \ufffd\ufffd ok".encode()
