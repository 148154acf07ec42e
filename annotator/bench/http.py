"""A small keep-alive HTTP client that behaves like a browser tab on the annotation page: one
cookie jar (the real session), the CSRF token read from the page, JSON saves with
``X-CSRFToken``. Standard library only, so the benchmark needs no extra package and the client
spends as little CPU as possible on a machine it shares with the server."""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CLAIM = re.compile(r'<fieldset class="claim[^"]*" id="claim-(\d+)"')
VERSION = re.compile(r'name="version-(\d+)" value="(\d+)"')
PASSAGE_URL = re.compile(r"/passages/(\d+)$")
TIMEOUT_S = 300


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Browser:
    """One user's tab: cookies kept across requests, redirects not followed automatically."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.csrf_token = ""  # the session's token, from the first full page
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        response = self._send(method, path, body, all_headers)
        data = response.read()
        elapsed = time.perf_counter() - start
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, data, elapsed
        )

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        """Send once; on a connection the server closed meanwhile, reconnect and send again."""
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                return self.conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = self._connect()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def stream(self, path: str, chunk_bytes: int = 1 << 16) -> tuple[int, int, float]:
        """GET a download without keeping it: returns (status, CRLF line ends, seconds)."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        start = time.perf_counter()
        response = self._send("GET", path, None, headers)
        lines, tail = 0, b""
        for _ in range(1 << 24):  # bounded: 1 TiB at 64 KiB a read
            chunk = response.read(chunk_bytes)
            if not chunk:
                break
            lines += (tail + chunk[:1]).count(b"\r\n") + chunk.count(b"\r\n")
            tail = chunk[-1:]
        self.conn.close()
        return response.status, lines, time.perf_counter() - start

    def log_in(self, username: str, password: str) -> None:
        page = self.get("/login")
        token = _search(CSRF_FIELD, page.text, "login form CSRF token")
        form = urlencode({"username": username, "password": password, "csrf_token": token})
        reply = self.request(
            "POST", "/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if reply.status != 302 or "/login" in reply.headers.get("location", ""):
            raise RuntimeError(f"login failed for {username}: HTTP {reply.status}")

    def next_passage(self, project_id: int) -> tuple[Reply, int | None]:
        """The "Next" request: a redirect to the passage page, or elsewhere when nothing is left."""
        reply = self.get(f"/projects/{project_id}/next")
        match = PASSAGE_URL.search(urlsplit(reply.headers.get("location", "")).path)
        return reply, int(match.group(1)) if match else None

    def save_all(
        self, passage_id: int, html: str, label: str, then: str | None = None
    ) -> tuple[Reply, int]:
        """Label every claim of the page (or of the page content a "Save & next" answered
        with), as the page's fetch() does; returns (reply, claims). ``then="next"`` is the
        page's "Save & next": the reply holds the next passage's URL and page content."""
        claims = [int(c) for c in CLAIM.findall(html)]
        versions = {int(c): int(v) for c, v in VERSION.findall(html)}
        body = {
            "labels": {str(c): label for c in claims},
            "versions": {str(c): versions.get(c, 0) for c in claims},
            **({"then": then} if then else {}),
        }
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRFToken": self._csrf_token(html),
        }
        reply = self.request("POST", f"/passages/{passage_id}", json.dumps(body).encode(), headers)
        return reply, len(claims)

    def _csrf_token(self, html: str) -> str:
        """The token of the page's ``<meta>``; page content shown in place has none, and the
        page keeps using the one it was loaded with."""
        if not self.csrf_token:
            self.csrf_token = _search(CSRF_META, html, "page CSRF token")
        return self.csrf_token

    def next_after_save(self, reply: Reply) -> tuple[int | None, str]:
        """The passage a "Save & next" reply shows next and its page content, or (None, "")
        when nothing is left."""
        answer = as_json(reply)
        match = PASSAGE_URL.search(str(answer.get("next_url", "")))
        return (int(match.group(1)), str(answer.get("page", ""))) if match else (None, "")

    def upload(self, path: str, filename: str, data: bytes, fields: dict[str, str]) -> Reply:
        """POST a multipart form with one file, the CSRF token taken from the form page."""
        token = _search(CSRF_FIELD, self.get(path).text, "upload form CSRF token")
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in {**fields, "csrf_token": token}.items():
            disposition = f'Content-Disposition: form-data; name="{name}"'
            parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
        disposition = f'Content-Disposition: form-data; name="file"; filename="{filename}"'
        parts.append(
            f"--{boundary}\r\n{disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        body = b"".join(parts) + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", path, body, headers)

    def close(self) -> None:
        self.conn.close()


def _search(pattern: re.Pattern[str], text: str, what: str) -> str:
    match = pattern.search(text)
    if match is None:
        raise RuntimeError(f"no {what} found in the page")
    return match.group(1)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (seconds), 0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(round(share * len(ordered) + 0.5) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def as_json(reply: Reply) -> Any:
    return json.loads(reply.body or b"{}")
