"""Regenerate docs/annotation-page.png: a throw-away database with the sample article, one
reviewer, the annotation page in Chromium.  Run: python docs/make_screenshot.py"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from annotator import create_app
from annotator.cli import SAMPLE_ARTICLE, prepare_database
from annotator.db import get_session
from annotator.services import accounts, importing

OUT = Path(__file__).with_name("annotation-page.png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/shot.db", "SECRET_KEY": "shot"})
        with app.app_context():
            prepare_database()
            session = get_session()
            importing.import_files(
                session, [(SAMPLE_ARTICLE.name, SAMPLE_ARTICLE.read_bytes())], "default"
            )
            accounts.create_user(session, "rita", "screenshot-password")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url + "/login")
            page.get_by_label("Username").fill("rita")
            page.get_by_label("Password").fill("screenshot-password")
            page.get_by_role("button", name="Log in").click()
            page.goto(url + "/passages/2")
            page.keyboard.press("j")
            page.screenshot(path=str(OUT), full_page=False)
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
