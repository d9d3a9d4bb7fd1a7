"""One careful HTTP client for both forges: timeouts, retries, rate limits, pagination.

Every forge call goes through :meth:`ForgeHttp.request`, which

1. sends the request with a timeout (connect and read), so a hung forge cannot hang a worker;
2. retries a 5xx answer, a connection error or a timeout with exponential backoff (a bounded
   number of attempts);
3. on a rate limit (429, or 403 with ``Retry-After`` or ``X-RateLimit-Remaining: 0``; GitLab's
   ``RateLimit-Remaining: 0``) waits what the forge asked (``Retry-After`` seconds, or until
   ``X-RateLimit-Reset`` / ``RateLimit-Reset``), never longer than ``max_wait``;
4. turns anything else that is not 2xx into one :class:`ForgeApiError` naming the method, the
   path, the status and the forge's own message.

No ``httpx`` exception leaves this module. ``sleep`` and ``clock`` are injectable so that tests
of the waits do not sleep.
"""

from __future__ import annotations

__all__ = [
    "ForgeApiError",
    "ForgeClient",
    "ForgeHttp",
    "Page",
    "RetryPolicy",
    "answer_field",
    "answer_sha",
    "answer_time",
]

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from twokey.errors import InfrastructureError, UsageError
from twokey.forge._actions import check_sha

_USER_AGENT = "twokey-forge"
_MESSAGE_LIMIT = 200  # characters of the forge's error message kept in ours
_T = TypeVar("_T")


class ForgeApiError(InfrastructureError):
    """A forge API call failed for good (after retries), or answered something unusable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait and how often to try.

    Attributes:
        attempts: tries per call, the first included (>= 1).
        backoff: the first wait after a 5xx or a network error, doubled each time (seconds).
        max_wait: the longest single wait, rate limits included; a forge asking for more is
            an error (the outbox retries the whole action later).
        timeout: seconds to connect and seconds to read an answer.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 60.0
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.max_wait < 0 or self.timeout <= 0:
            raise ValueError(f"invalid retry policy {self}")


@dataclass(frozen=True)
class Page:
    """One page of a list: its items and the URL of the next page (None on the last)."""

    items: list[Any]
    next_url: str | None


class ForgeHttp:
    """An ``httpx.Client`` for one forge's API base URL, with a token supplier.

    ``auth`` returns the ``Authorization`` (or ``PRIVATE-TOKEN``) headers for each attempt, so
    an expiring installation token is renewed between retries.
    """

    def __init__(
        self,
        base_url: str,
        auth: Callable[[], Mapping[str, str]],
        retry: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.retry.timeout),
            headers={"User-Agent": _USER_AGENT},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def json(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer of one call (None for an empty body, e.g. 204)."""
        response = self.request(method, path, body)
        return _decode(response, method, path)

    def pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Every page of a list, following ``Link: rel="next"`` (GitHub and GitLab) or
        GitLab's ``X-Next-Page``, until there is none."""
        url: str | None = self._url(path, params)
        seen: set[str] = set()
        while url is not None:
            if url in seen:  # a forge (or a proxy) that links a page to itself: never loop
                raise ForgeApiError(f"GET {path}: the next page repeats {_short(url)}")
            seen.add(url)
            response = self.request("GET", url)
            items = _decode(response, "GET", path)
            if not isinstance(items, list):
                raise ForgeApiError(f"GET {path}: expected a JSON list, got {type(items).__name__}")
            url = _next_url(response)
            yield Page(items, url)

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One call with retries; the final 2xx answer, or :class:`ForgeApiError`."""
        url = self._own(path) if path.startswith(("http://", "https://")) else self._url(path)
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                response = self._send(method, url, body)
            except httpx.TimeoutException as exc:
                if last:
                    raise ForgeApiError(f"{method} {_short(url)}: timed out") from exc
                self._wait(self._backoff(attempt))
                continue
            except httpx.HTTPError as exc:
                if last:
                    raise ForgeApiError(f"{method} {_short(url)}: {exc}") from exc
                self._wait(self._backoff(attempt))
                continue
            wait = self._retry_after(response, attempt)
            if wait is None or last:
                return _checked(response, method, url)
            self._wait(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _own(self, url: str) -> str:
        """``url`` itself when it is on this forge's origin; the token goes nowhere else.

        A ``Link`` header or a callback URL from a payload is data: one naming another host
        would otherwise receive our token.
        """
        theirs, ours = httpx.URL(url), httpx.URL(self.base_url)
        if (theirs.scheme, theirs.host, theirs.port) != (ours.scheme, ours.host, ours.port):
            raise ForgeApiError(f"refusing to send the forge token to {_short(url)}: not {ours}")
        return url

    def _send(self, method: str, url: str, body: Any) -> httpx.Response:
        headers = {"Accept": "application/json", **self._auth()}
        return self._client.request(method, url, json=body, headers=headers)

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        url = f"{self.base_url}/{path.lstrip('/')}"
        return str(httpx.URL(url, params=params)) if params else url

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry.backoff * 2 ** (attempt - 1), self.retry.max_wait))

    def _retry_after(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when the answer is final."""
        if response.status_code >= 500:
            return self._backoff(attempt)
        if not _rate_limited(response):
            return None
        wait = _asked_wait(response.headers, self._clock())
        if wait is None:
            return self._backoff(attempt)
        if wait > self.retry.max_wait:
            return None  # the forge asks for longer than we hold a worker: fail, retry later
        return wait

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)


class ForgeClient:
    """What both forges' API clients share: one :class:`ForgeHttp` and its lifetime."""

    default_url = ""

    def __init__(
        self,
        auth: Callable[[], Mapping[str, str]],
        api_url: str | None = None,
        retry: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = ForgeHttp(api_url or self.default_url, auth, retry, sleep=sleep)

    def close(self) -> None:
        """Close the connections."""
        self.http.close()


def _rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    headers = response.headers
    return (
        "retry-after" in headers
        or headers.get("x-ratelimit-remaining") == "0"
        or headers.get("ratelimit-remaining") == "0"
    )


def _asked_wait(headers: httpx.Headers, now: float) -> float | None:
    """``Retry-After`` seconds, else the rate limit's reset time (epoch seconds) minus now."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        value = headers.get(name, "").strip()
        if value.isdigit():
            return max(0.0, float(value) - now)
    return None


def _checked(response: httpx.Response, method: str, url: str) -> httpx.Response:
    if 200 <= response.status_code < 300:
        return response
    raise ForgeApiError(
        f"{method} {_short(url)}: HTTP {response.status_code}: {_message(response)}",
        response.status_code,
    )


def _message(response: httpx.Response) -> str:
    """The forge's own one-line reason (GitHub ``message``, GitLab ``message``/``error``)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error"):
            if isinstance(data.get(key), str):
                return str(data[key])[:_MESSAGE_LIMIT]
    text = response.text.strip().splitlines()
    return text[0][:_MESSAGE_LIMIT] if text else response.reason_phrase


def _decode(response: httpx.Response, method: str, path: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise ForgeApiError(f"{method} {path}: the answer is not JSON") from exc


def _next_url(response: httpx.Response) -> str | None:
    following = response.links.get("next", {}).get("url")
    if following:
        return str(response.url.join(following))
    page = response.headers.get("x-next-page", "").strip()
    if page.isdigit():
        return str(response.url.copy_set_param("page", page))
    return None


def _short(url: str) -> str:
    """The URL without its query string (which may carry a token on some set-ups)."""
    return url.split("?", 1)[0]


def answer_field(data: Any, key: str, kind: type[_T]) -> _T:
    """``data[key]`` of type ``kind`` from a forge's JSON answer, or one clear
    :class:`ForgeApiError` (answers are parsed once, at the boundary)."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise ForgeApiError(f"forge answer: {key!r} missing or not a {kind.__name__}")
    return value


def answer_sha(value: str) -> str:
    """A full commit id from a forge's answer."""
    try:
        return check_sha(value)
    except UsageError as exc:
        raise ForgeApiError(f"forge answer: {exc}") from exc


def answer_time(value: str) -> datetime:
    """A zoned ISO 8601 time from a forge's answer."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ForgeApiError(f"forge answer: not a time: {value!r}") from exc
    if when.tzinfo is None:
        raise ForgeApiError(f"forge answer: a time without its zone: {value!r}")
    return when
