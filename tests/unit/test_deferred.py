"""Modules imported with some of their imports deferred answer as before (ADR 0036).

``twokey._deferred`` lets ``dataclasses`` (without ``inspect`` and ``copy``) and ``pathlib``
(``urllib.parse`` without ``ipaddress``) be imported while the module they import for one
function a door never calls stands in: the stand-in imports the real module when first asked.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from twokey._deferred import Deferred


def test_a_deferred_module_answers_from_the_real_module() -> None:
    stand_in = Deferred("colorsys")
    sys.modules.pop("colorsys", None)
    sys.modules["colorsys"] = stand_in
    rgb_to_hsv = stand_in.rgb_to_hsv  # asked while standing in: steps aside, imports it
    import colorsys  # noqa: PLC0415

    assert sys.modules["colorsys"] is colorsys
    assert colorsys is not stand_in
    assert rgb_to_hsv is colorsys.rgb_to_hsv
    assert stand_in.hls_to_rgb is colorsys.hls_to_rgb
    with pytest.raises(AttributeError):
        stand_in.no_such_name  # noqa: B018


_URLS = textwrap.dedent(
    """
    import sys
    {first}
    import pathlib, urllib.parse
    before = "ipaddress" in sys.modules
    answers = []
    for url in ["http://[::1]:80/x", "http://[v1.fe]/", "http://[zz]/", "http://[1.2.3.4]/",
                "http://example.com/a b", "file:///tmp/x"]:
        try:
            answers.append(repr(urllib.parse.urlsplit(url)))
        except ValueError as exc:
            answers.append(f"ValueError: {{exc}}")
    answers.append(pathlib.PurePosixPath("/tmp/a b").as_uri())
    real = type(sys.modules["ipaddress"]) is type(sys)
    print(before, real, *answers, sep="\\n")
    """
)


def _urls(first: str) -> list[str]:
    source = _URLS.format(first=first)
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_pathlib_imported_without_ipaddress_parses_urls_as_before() -> None:
    deferred = _urls(
        'from twokey._deferred import import_deferring\nimport_deferring("pathlib", ("ipaddress",))'
    )
    plain = _urls("")
    assert deferred[:2] == ["False", "True"]  # deferred, then imported when a host needed it
    assert plain[:2] == ["True", "True"]
    assert deferred[2:] == plain[2:]
    assert any(line.startswith("ValueError") for line in plain)  # the checks ran


def test_nothing_is_deferred_once_the_module_is_imported() -> None:
    import pathlib  # noqa: PLC0415

    from twokey._deferred import import_deferring  # noqa: PLC0415

    assert import_deferring("pathlib", ("ipaddress",)) is pathlib
    assert not isinstance(sys.modules.get("ipaddress"), Deferred)
