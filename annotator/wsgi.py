"""The application for a WSGI server, built once per worker process with the garbage
collector tuned (``annotator.collector``): ``gunicorn 'annotator.wsgi:app'``."""

from __future__ import annotations

from annotator import create_app
from annotator.collector import tune_garbage_collection

app = create_app()
tune_garbage_collection()
