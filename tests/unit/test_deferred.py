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


def test_pathlib_imported_without_urllib_parse_parses_urls_as_before() -> None:
    """``import_pathlib`` (ADR 0040): the probe's own ``import urllib.parse`` then loads the real
    module (with ``ipaddress``), which answers as always."""
    deferred = _urls("from twokey._deferred import import_pathlib\nimport_pathlib()")
    plain = _urls("")
    assert deferred[:2] == ["True", "True"]
    assert deferred[2:] == plain[2:]


_URIS = textwrap.dedent(
    """
    import sys
    {first}
    import pathlib
    before = sorted({{"urllib.parse", "ipaddress"}} & set(sys.modules))
    answers = []
    for path in ["/tmp/a b", "/t%20/x", "/caf\\u00e9/\\u00fc", "/x?#[]", "/"]:
        answers.append(pathlib.PurePosixPath(path).as_uri())
    try:
        pathlib.PurePosixPath("relative").as_uri()
    except ValueError as exc:
        answers.append(f"ValueError: {{exc}}")
    try:
        pathlib._PosixFlavour().make_uri(pathlib.PurePosixPath("/a"))  # the forwarder's own use
        pathlib.urlquote_from_bytes("not bytes")
    except TypeError as exc:
        answers.append(f"TypeError: {{exc}}")
    real = type(sys.modules["urllib.parse"]) is type(sys)
    print(before, real, *answers, sep="\\n")
    """
)


def _lines(template: str, first: str) -> list[str]:
    """What a fresh interpreter prints running ``template`` with ``first`` as its first lines."""
    done = subprocess.run(
        [sys.executable, "-c", template.format(first=first)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_paths_made_into_uris_without_urllib_parse_are_the_same() -> None:
    """``pathlib`` takes ``quote_from_bytes`` by name: the stand-in holds a forwarder, which
    imports ``urllib.parse`` when a path is made into a URI and answers (or fails) the same."""

    deferred = _lines(_URIS, "from twokey._deferred import import_pathlib\nimport_pathlib()")
    plain = _lines(_URIS, "")
    assert deferred[:2] == ["[]", "True"]  # not imported at first, the real module once used
    assert plain[:2] == ["['ipaddress', 'urllib.parse']", "True"]
    assert deferred[2:] == plain[2:]
    assert any(line.startswith("TypeError") for line in plain)


def test_a_forwarder_answers_and_fails_as_the_function() -> None:
    import colorsys  # noqa: PLC0415

    from twokey._deferred import forwarder  # noqa: PLC0415

    forward = forwarder("colorsys", "rgb_to_hsv")
    assert forward.__name__ == "rgb_to_hsv"
    assert forward(0.2, 0.4, 0.4) == colorsys.rgb_to_hsv(0.2, 0.4, 0.4)
    with pytest.raises(TypeError) as plain:
        colorsys.rgb_to_hsv(1, 2)  # type: ignore[call-arg]
    with pytest.raises(TypeError) as forwarded:
        forward(1, 2)
    assert str(forwarded.value) == str(plain.value)


def test_a_module_stand_in_has_no_path_and_answers_the_rest() -> None:
    """``from module import name`` asks the stand-in for ``__path__`` first: answered as by the
    real module (no package), without importing it."""
    from twokey._deferred import DeferredModule  # noqa: PLC0415

    sys.modules.pop("colorsys", None)
    stand_in = DeferredModule("colorsys")
    with pytest.raises(AttributeError):
        stand_in.__path__  # noqa: B018
    assert "colorsys" not in sys.modules
    assert stand_in.rgb_to_hsv(0.2, 0.4, 0.4) == sys.modules["colorsys"].rgb_to_hsv(0.2, 0.4, 0.4)


_PROCESSES = textwrap.dedent(
    """
    import sys
    {first}
    import subprocess
    before = sorted({{"signal", "locale"}} & set(sys.modules))
    answers = [subprocess.run(["git", "--version"], capture_output=True).returncode]
    text = subprocess.run(["echo", "caf\u00e9"], capture_output=True, text=True).stdout
    answers.append(repr(text))
    sleeper = subprocess.Popen(["sleep", "30"])
    sleeper.kill()
    answers.append(sleeper.wait())
    answers.append(str(subprocess.CalledProcessError(-9, ["sleep"])))
    answers.append(str(subprocess.CalledProcessError(-200, ["sleep"])))
    try:
        subprocess.run(["sleep", "5"], timeout=0.05)
    except subprocess.TimeoutExpired as exc:  # killed on its time limit
        answers.append(exc.cmd)
    print(before, *answers, sep="\\n")
    """
)


def test_subprocess_imported_without_signal_runs_and_kills_as_before() -> None:
    """``import_subprocess`` (ADR 0040): ``signal`` is imported when a process is killed or a
    signal named, ``locale`` when a text-mode process has no encoding, and every answer is the
    one plain ``subprocess`` gives."""

    deferred = _lines(
        _PROCESSES, "from twokey._deferred import import_subprocess\nimport_subprocess()"
    )
    plain = _lines(_PROCESSES, "")
    assert deferred[0] == "[]"
    assert plain[0] == "['locale', 'signal']"
    assert deferred[1:] == plain[1:]
    assert "died with <Signals.SIGKILL: 9>." in plain[4]
