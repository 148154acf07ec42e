"""A small HTTP client that behaves like the annotation page: real session, CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from tests.conftest import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CLAIM = re.compile(r'<fieldset class="claim[^"]*" id="claim-(\d+)"')
VERSION = re.compile(r'name="version-(\d+)" value="(\d+)"')


@dataclass
class SavedPassage:
    passage_id: int
    labels: dict[int, str]


class Reviewer:
    def __init__(self, base_url: str, username: str) -> None:
        self.base = base_url
        self.username = username
        self.http = requests.Session()
        self.csrf_token = ""

    def log_in(self) -> None:
        page = self.http.get(self.base + "/login", timeout=30)
        token = CSRF_FIELD.search(page.text).group(1)
        response = self.http.post(
            self.base + "/login",
            data={"username": self.username, "password": PASSWORD, "csrf_token": token},
            timeout=30,
        )
        response.raise_for_status()
        assert "/login" not in response.url, f"login failed for {self.username}"

    def next_passage(self, project_id: int) -> tuple[int, str] | None:
        """Follow "Next"; returns (passage id, page html) or None when nothing is left."""
        return self.open(f"/projects/{project_id}/next")

    def open(self, path: str) -> tuple[int, str] | None:
        """GET a page; (passage id, page html) when it is (or redirects to) a passage page."""
        response = self.http.get(self.base + path, timeout=30)
        response.raise_for_status()
        match = re.search(r"/passages/(\d+)$", response.url)
        return (int(match.group(1)), response.text) if match else None

    def save_all(
        self, passage_id: int, html: str, label: str, then: str | None = None
    ) -> requests.Response:
        """Label every claim on the page, as the page's own fetch() does (``then="next"``:
        its "Save and next", answered with the next passage's URL and page content)."""
        claims = [int(c) for c in CLAIM.findall(html)]
        versions = {int(c): int(v) for c, v in VERSION.findall(html)}
        meta = CSRF_META.search(html)  # page content shown in place keeps the page's token
        self.csrf_token = meta.group(1) if meta else self.csrf_token
        body = {
            "labels": {str(c): label for c in claims},
            "versions": {str(c): versions.get(c, 0) for c in claims},
            **({"then": then} if then else {}),
        }
        return self.http.post(
            f"{self.base}/passages/{passage_id}",
            json=body,
            headers={"X-CSRFToken": self.csrf_token, "Accept": "application/json"},
            timeout=30,
        )
