"""The ``annotator`` command: database, users, import, export, evaluation and serving."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from tqdm import tqdm

from annotator import create_app, migrate
from annotator.db import get_engine, get_session
from annotator.models import Role
from annotator.services import accounts, evaluation, exporting, importing, outlets
from annotator.services.projects import DEFAULT_PROJECT

SAMPLE_ARTICLE = Path(__file__).with_name("sample_article.md")


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def cli() -> None:
    """Annotate how news articles use their sources."""


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply all migrations and seed the outlet registry when it is empty."""
    prepare_database()
    click.echo("Database is up to date.")


@db.command("check")
@with_appcontext
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    migrate.check(get_engine())
    click.echo("Models and migrations agree.")


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    migrate.revision(get_engine(), message)


def prepare_database() -> None:
    migrate.upgrade(get_engine())
    outlets.seed_default_outlets(get_session())


@cli.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.REVIEWER.value)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_create(username: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is prompted for unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.create_user(get_session(), username, password, role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {role} {username}.")


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--project", default=None, help="Target project (default: the default project).")
@with_appcontext
def import_command(files: tuple[str, ...], project: str | None) -> None:
    """Import articles: .txt/.md (one article per file) or .jsonl (one per line)."""
    project_name = project or DEFAULT_PROJECT
    with tqdm(unit="doc", desc="Importing", disable=None, file=sys.stderr) as bar:
        report = importing.import_files(
            get_session(), _read_files(files), project_name, on_progress=bar.update
        )
    for failure in report.failed:
        click.echo(f"error: {failure}", err=True)
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)


def _read_files(paths: tuple[str, ...]) -> list[tuple[str, bytes]]:
    return [(Path(p).name, Path(p).read_bytes()) for p in paths]


@cli.command("export")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv")
@click.option("--project", default=None, help="Only this project.")
@click.option("--all-claims", is_flag=True, help="CSV: add a row for every untagged claim.")
@with_appcontext
def export_command(out: str, fmt: str, project: str | None, all_claims: bool) -> None:
    """Write annotations as CSV or JSONL to OUT ("-" for standard output)."""
    export_filter = exporting.ExportFilter(project=project, all_claims=all_claims)
    writer = exporting.iter_csv if fmt == "csv" else exporting.iter_jsonl
    chunks = writer(get_session(), export_filter)
    if out == "-":
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    with open(out, "w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            handle.write(chunk)
    click.echo(f"Wrote {out}.", err=True)


@cli.command("evaluate")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False))
@click.argument("article", required=False, type=click.Path(exists=True, dir_okay=False))
def evaluate_command(gold: str, article: str | None) -> None:
    """Score the text pipeline against a gold annotation (throw-away database)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{Path(tmp) / 'evaluate.db'}", "SECRET_KEY": "evaluate"}
        )
        with app.app_context():
            prepare_database()
            try:
                text = evaluation.evaluate_against_gold(get_session(), Path(gold), article)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            finally:
                get_session().close()
                get_engine().dispose()
            click.echo(text)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app for local use (use gunicorn in production)."""
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


@cli.command("quickstart")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare everything but do not start the server.")
@with_appcontext
def quickstart_command(host: str, port: int, no_serve: bool) -> None:
    """First run: migrate, load the sample article, create an admin, then serve."""
    prepare_database()
    session = get_session()
    report = importing.import_files(
        session,
        [(SAMPLE_ARTICLE.name, SAMPLE_ARTICLE.read_bytes())],
        DEFAULT_PROJECT,
    )
    if report.imported:
        click.echo(f"Imported the sample article ({report.passages} passages).")
    if accounts.count_users(session) == 0:
        password = accounts.generate_password()
        accounts.create_user(session, "admin", password, Role.ADMIN)
        click.echo(f"Created user 'admin' with password: {password}")
        click.echo("This password is shown only once; change it after logging in.")
    if not no_serve:
        _serve(host, port)
