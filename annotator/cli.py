"""The ``annotator`` command: database, users, import, export, evaluation and serving."""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from annotator import create_app, migrate
from annotator.collector import tune_garbage_collection
from annotator.db import get_engine, get_session, is_missing_table, release_session
from annotator.models import Role
from annotator.services import accounts, agreement, export_formats, outlets, scope
from annotator.services.projects import DEFAULT_PROJECT
from annotator.services.records import first_unstorable, unstorable_reason

if TYPE_CHECKING:
    from annotator.services import importing

SAMPLE_ARTICLE = Path(__file__).with_name("sample_article.md")


class _StorableText(click.ParamType):
    """Text the database can store. An argument's bytes that are not UTF-8 arrive as lone
    surrogates (Python's surrogateescape), which would fail deep in the database driver."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and (character := first_unstorable(value)) is not None:
            reason = unstorable_reason(character)
            self.fail(f"{value!r} holds {reason}; is the terminal's encoding UTF-8?", param, ctx)
        return value


TEXT = _StorableText()


def _command_app() -> Flask:
    """The app the commands run in: configuration and database, no pages (``serve`` and
    ``quickstart`` build the whole app to serve it). The import, evaluation and label-import
    code loads in the commands that use it, so that the others start sooner."""
    return create_app(web=False)


class _Commands(FlaskGroup):
    """The command group; a command run on a database that has not been set up says so
    instead of showing the database's error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            if not is_missing_table(exc):
                raise
            raise click.ClickException(
                "The database is not set up for this version of annotator "
                f"({str(exc.orig).splitlines()[0]}). Run `annotator db upgrade` first."
            ) from exc


@click.group(cls=_Commands, create_app=_command_app, add_default_commands=False)
def cli() -> None:
    """Annotate how news articles use their sources."""
    atexit.unregister(_skip_final_garbage_collection)  # once, however often it is invoked
    atexit.register(_skip_final_garbage_collection)


def main() -> None:
    """The ``annotator`` command: ``cli`` with the garbage collector tuned for it (a command
    allocates millions of short-lived objects; the import's workers inherit the tuning). Not
    in ``cli`` itself, which tests invoke many times in one process."""
    tune_garbage_collection()
    cli()


def _skip_final_garbage_collection() -> None:
    """A command's last step. At exit the interpreter collects every object of the module graph
    (~0.2 s, a fifth of a short command); the operating system frees the memory anyway."""
    gc.freeze()


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


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (an id from annotator/migrations/versions). Take a
    backup first: a downgrade drops what the later schema added."""
    migrate.downgrade(get_engine(), revision)
    click.echo(f"Database is at {revision}.")


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
@click.argument("username", type=TEXT)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.REVIEWER.value)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_create(username: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is prompted for unless --password-stdin is given."""
    if password_stdin:
        # Read as bytes: how the text layer decodes bytes that are not UTF-8 (an error, or
        # surrogates) depends on the locale; the check below refuses them either way.
        line = sys.stdin.buffer.readline().decode("utf-8", "surrogateescape")
        password = line.rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if first_unstorable(password) is not None:
        raise click.UsageError("The password is not UTF-8 text; is the terminal's encoding UTF-8?")
    try:
        accounts.create_user(get_session(), username, password, role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {role} {username}.")


def _document_scope_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that keep the documents of one citing site and publication period."""
    options = [
        click.option("--site", type=TEXT, default=None, help="Only documents of this site."),
        click.option("--published-from", default=None, help="Published on or after (date)."),
        click.option("--published-to", default=None, help="Published on or before (date)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_processes_option = click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes that analyse the texts while this command stores them "
    "(default: the CPUs this command may use; 1: analyse in this command's process).",
)


@cli.command("import")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--project", type=TEXT, default=None, help="Target project (default: the default project)."
)
@click.option(
    "--urls",
    "url_list",
    type=click.Path(exists=True, dir_okay=False),
    help="A text file of web addresses to fetch and import, one per line.",
)
@click.option(
    "--create-reviewers",
    is_flag=True,
    help="Restored JSONL: create unknown reviewers as inactive accounts instead of failing.",
)
@_processes_option
@click.option(
    "--reanalyse",
    is_flag=True,
    help="Analyse documents already imported again (after outlets were added or changed); "
    "one whose analysis differs is stored as a new version.",
)
@with_appcontext
def import_command(
    files: tuple[str, ...],
    project: str | None,
    url_list: str | None,
    create_reviewers: bool,
    processes: int | None,
    reanalyse: bool,
) -> None:
    """Import articles: .txt/.md/.html (one article per file), .jsonl or .csv (one per line
    or row), .zip of these, and/or --urls FILE."""
    from annotator.services import drafting, importing

    if not files and not url_list:
        raise click.UsageError("Give FILES to import, or --urls FILE, or both.")
    project_name = project or DEFAULT_PROJECT
    session = get_session()
    with tqdm(unit="doc", desc="Importing", disable=None, file=sys.stderr) as bar:
        try:
            report = importing.import_files(
                session,
                _read_files(files),
                project_name,
                bar.update,
                create_reviewers=create_reviewers,
                processes=processes or _usable_cpus(),
                reanalyse=reanalyse,
            )
        except drafting.WorkerLost as exc:
            raise click.ClickException(str(exc)) from exc
    if url_list:
        _import_url_list(url_list, project_name, report, reanalyse)
    _print_report(report)
    if report.failed:
        sys.exit(1)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _import_url_list(
    url_list: str, project_name: str, report: importing.ImportReport, reanalyse: bool
) -> None:
    from annotator.services import fetching

    try:
        urls = fetching.parse_url_list(Path(url_list).read_text(encoding="utf-8-sig"))
    except (fetching.FetchError, UnicodeDecodeError) as exc:
        report.failed.append(f"{url_list}: {exc}")
        return
    settings = fetching.settings_from(current_app.config)
    with tqdm(total=len(urls), unit="page", desc="Fetching", disable=None, file=sys.stderr) as bar:
        url_report, results = fetching.import_urls(
            get_session(), urls, project_name, settings, _following(bar), reanalyse=reanalyse
        )
    report.merge(url_report)
    for line in results:
        click.echo(line)


def _following(bar: tqdm[Any]) -> Callable[[int, int], None]:
    """A progress callback told (done, total) that moves the bar; the total may grow (a feed
    adds its entries)."""

    def show(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return show


def _print_report(report: importing.ImportReport) -> None:
    for failure in report.failed:
        click.echo(f"error: {failure}", err=True)
    for line in report.lost_tags:
        click.echo(f"lost labels: {line}", err=True)
    if report.changed:
        click.echo(f"updated to a new version: {', '.join(report.changed)}")
    if report.reanalysed:
        click.echo(f"analysed again with a new result: {', '.join(report.reanalysed)}")
    click.echo(report.summary())


def _read_files(paths: tuple[str, ...]) -> list[tuple[str, bytes]]:
    return [(Path(p).name, Path(p).read_bytes()) for p in paths]


@cli.command("import-labels")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--project", type=TEXT, required=True, help="The project the documents are in.")
@click.option(
    "--create-reviewers", is_flag=True, help="Create unknown reviewers as inactive accounts."
)
@with_appcontext
def import_labels_command(file: str, project: str, create_reviewers: bool) -> None:
    """Import labels from CSV (document_id, claim offsets or claim_text, reviewer, label)."""
    from annotator.services import label_import
    from annotator.services.records import ImportFileError

    try:
        report = label_import.import_labels(
            get_session(),
            Path(file).name,
            Path(file).read_bytes(),
            project,
            create_reviewers=create_reviewers,
        )
    except ImportFileError as exc:
        click.echo(f"error: {exc}", err=True)
        click.echo("Nothing was imported.")
        sys.exit(1)
    click.echo(report.summary())


@cli.command("export")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "label-studio", "doccano", "csv-wide"]),
    default="csv",
)
@click.option("--wide", is_flag=True, help="CSV: one row per claim, reviewers side by side.")
@click.option("--excel", is_flag=True, help="CSV: UTF-8 with a byte-order mark, for Excel.")
@click.option("--project", type=TEXT, default=None, help="Only this project.")
@click.option("--all-claims", is_flag=True, help="CSV: add a row for every untagged claim.")
@click.option(
    "--outlet", type=TEXT, default=None, help='Only passages citing this outlet ("none": none).'
)
@click.option("--role", type=click.Choice(["author", "excerpt"]), default=None)
@click.option("--label", type=click.Choice(["reported", "quoted", "editorial"]), default=None)
@click.option("--reviewer", type=TEXT, default=None, help="Only this reviewer's labels.")
@click.option("--since", default=None, help="Labels saved on or after this date (YYYY-MM-DD).")
@click.option("--until", default=None, help="Labels saved on or before this date (YYYY-MM-DD).")
@click.option("--settled", is_flag=True, help="Only claims with a final label.")
@_document_scope_options
@with_appcontext
def export_command(out: str, fmt: str, wide: bool, excel: bool, **filters: Any) -> None:
    """Write annotations to OUT ("-" for standard output): CSV (long or --wide), JSONL,
    Label Studio JSON tasks or doccano JSONL."""
    if wide:
        if fmt not in ("csv", "csv-wide"):
            raise click.UsageError("--wide applies to --format csv only.")
        fmt = "csv-wide"
    args = {k: ("1" if v is True else v) for k, v in filters.items() if v not in (None, False)}
    try:
        export_filter = export_formats.filter_from_args(args, get_session())
    except export_formats.FilterError as exc:
        raise click.UsageError(str(exc)) from exc
    chunks = export_formats.export_chunks(get_session(), fmt, export_filter, excel=excel)
    if out == "-":
        sys.stdout.flush()
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    _write_whole(Path(out), chunks)
    click.echo(f"Wrote {out}.", err=True)


@cli.command("report")
@click.argument(
    "table", type=click.Choice(["outlets", "claims", "terms-by-outlet", "terms-by-term"])
)
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--project", "project_name", type=TEXT, required=True, help="Project name.")
@click.option(
    "--basis",
    type=TEXT,
    default="settled_or_majority",
    help="Which labels count, as on the page: settled_or_majority, settled, majority or all.",
)
@click.option("--outlet", type=TEXT, default=None, help="claims: of this outlet (default: every).")
@click.option(
    "--label",
    type=click.Choice(["reported", "quoted", "editorial"]),
    default=None,
    help="claims: those counted as this label.",
)
@click.option(
    "--role",
    type=click.Choice(["author", "excerpt"]),
    default=None,
    help="claims: those of these passages.",
)
@_document_scope_options
@with_appcontext
def report_command(
    table: str,
    out: str,
    project_name: str,
    basis: str,
    outlet: str | None,
    label: str | None,
    role: str | None,
    site: str | None,
    published_from: str | None,
    published_to: str | None,
) -> None:
    """Write a report's CSV to OUT ("-" for standard output), as its page's download: the
    outlet report, the claims behind its figures (--outlet, --label, --role), or the loaded
    terms report by outlet or by term."""
    # Imported here: every other command would pay for them at start-up.
    from annotator.services import outlet_claims, reports, term_report

    if basis not in set(reports.Basis):
        raise click.UsageError(f"--basis must be one of: {', '.join(reports.Basis)}.")
    if table != "claims" and (outlet or label or role):
        raise click.UsageError("--outlet, --label and --role choose the claims of 'claims'.")
    session = get_session()
    try:
        project = agreement.project_named(session, project_name)
        chosen = scope.parse_scope(session, project, site, published_from, published_to)
    except (agreement.UnknownProject, scope.ScopeError) as exc:
        raise click.UsageError(str(exc)) from exc
    if outlet is not None and not outlet_claims.outlet_exists(session, outlet):
        raise click.UsageError(f"There is no outlet named {outlet!r}.")
    counted = reports.Basis(basis)
    if table == "outlets":
        text = reports.iter_outlet_csv(reports.outlet_report(session, project, counted, chosen))
    elif table == "claims":
        choice = outlet_claims.Choice(outlet, counted, label, role, chosen)
        text = outlet_claims.iter_claims_csv(session, project, choice)
    else:
        terms = term_report.term_report(session, project, counted, chosen)
        text = term_report.CSV_TABLES[table.removeprefix("terms-")](terms)
    chunks = (piece.encode() for piece in text)
    if out == "-":
        sys.stdout.flush()
        sys.stdout.buffer.writelines(chunks)
        sys.stdout.buffer.flush()
        return
    _write_whole(Path(out), chunks)
    counts = scope.scope_counts(session, project, chosen)
    click.echo(
        f"Wrote {out}: {counts.kept} of {counts.total} documents, {chosen.describe()}.", err=True
    )


def _write_whole(target: Path, chunks: Iterable[bytes]) -> None:
    """Write to a file beside the target and put it in place only once every chunk is
    written: an export that fails halfway leaves no partial file, and an older file of the
    same name as it was."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then renamed)
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    )
    partial = Path(handle.name)
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@cli.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Copy the SQLite database to OUT while the app runs (PostgreSQL: use pg_dump)."""
    from annotator import backup

    try:
        backup.backup_database(get_engine(), out)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the database to {out}.")


@cli.command("reanalyse")
@click.option("--project", "project_name", type=TEXT, required=True, help="The project.")
@_processes_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Preview: report what would change, labels that would be lost included, and change "
    "nothing.",
)
@with_appcontext
def reanalyse_command(project_name: str, processes: int | None, dry_run: bool) -> None:
    """Analyse the project's documents again from the text each was imported with (after
    outlets, aliases or homepage domains changed); those whose analysis differs are stored as
    new versions, keeping the labels of unchanged claims."""
    from annotator.services import deleting, drafting, importing

    session = get_session()
    try:
        project = deleting.project_named(session, project_name)
    except deleting.DeletionError as exc:
        raise click.ClickException(str(exc)) from exc
    with tqdm(unit="doc", desc="Analysing", disable=None, file=sys.stderr) as bar:
        try:
            done = importing.reanalyse_project(
                session, project, _following(bar), processes or _usable_cpus(), preview=dry_run
            )
        except drafting.WorkerLost as exc:
            raise click.ClickException(str(exc)) from exc
    for line in done.lost_label_lines():
        click.echo(line, err=True)
    if new_result := done.new_result_line():
        click.echo(new_result)
    click.echo(done.summary())


@cli.command("run-reanalysis", hidden=True)
@click.argument("run_id", type=int)
@with_appcontext
def run_reanalysis_command(run_id: int) -> None:
    """Do a reanalysis run that the project page or the API recorded and started (see
    ``reanalysis_runs.launch``)."""
    from annotator.services import reanalysis_runs

    reanalysis_runs.run(get_engine(), run_id)


@cli.command("delete")
@click.option("--project", "project_name", type=TEXT, required=True, help="The project.")
@click.option(
    "--document",
    "external_id",
    type=TEXT,
    default=None,
    help="The document's id as imported (document_id in exports); without it, the project.",
)
@click.option("--yes", is_flag=True, help="Delete without asking.")
@with_appcontext
def delete_command(project_name: str, external_id: str | None, yes: bool) -> None:
    """Delete a document, or a whole project, with everything recorded on it."""
    from annotator.services import deleting

    session = get_session()
    delete: Callable[[], object]
    try:
        if external_id is None:
            project = deleting.project_named(session, project_name)
            deleting.check_deletable(project)
            whole = deleting.project_footprint(session, project)
            what = f"the project {project_name!r}: {whole.summary()}"
            delete = partial(deleting.delete_project, session, project.id)
        else:
            document = deleting.document_named(session, project_name, external_id)
            part = deleting.footprint(session, document)
            what = f"the document {external_id!r} of {project_name!r}: {part.summary()}"
            delete = partial(deleting.delete_document, session, document.id)
        session.commit()
        if not yes:
            click.confirm(f"Delete {what}? This cannot be undone", abort=True)
        delete()
    except deleting.DeletionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Deleted {what}.")


@cli.command("evaluate")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False))
@click.argument("article", required=False, type=click.Path(exists=True, dir_okay=False))
def evaluate_command(gold: str, article: str | None) -> None:
    """Score the text pipeline against a gold annotation (throw-away database)."""
    from annotator.services import evaluation

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{Path(tmp) / 'evaluate.db'}", "SECRET_KEY": "evaluate"},
            web=False,
        )
        with app.app_context():
            prepare_database()
            try:
                text = evaluation.evaluate_against_gold(get_session(), Path(gold), article)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            finally:
                release_session()
                get_engine().dispose()
            click.echo(text)


@cli.command("evaluate-sentences")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--misses", type=click.IntRange(min=0), default=20, show_default=True,
    help="Table: how many wrongly labelled sentences to list.",
)  # fmt: skip
def evaluate_sentences_command(file: Path, fmt: str, misses: int) -> None:
    """Score the label suggestions against a CSV of labelled sentences (no database)."""
    from annotator.services.evaluation import read_labelled_sentences
    from annotator.services.records import ImportFileError
    from annotator.text.evaluate import (
        format_sentence_scores,
        score_sentences,
        sentence_scores_json,
    )

    try:
        sentences = read_labelled_sentences(file.name, file.read_bytes())
    except (ImportFileError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    scores = score_sentences(sentences)
    if fmt == "json":
        click.echo(json.dumps(sentence_scores_json(scores), ensure_ascii=False, indent=2))
    else:
        click.echo(format_sentence_scores(scores, misses))


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the app for local use (use gunicorn in production)."""
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, create_app(), threaded=True)


@cli.command("quickstart")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare everything but do not start the server.")
@with_appcontext
def quickstart_command(host: str, port: int, no_serve: bool) -> None:
    """First run: migrate, load the sample article, create an admin, then serve."""
    from annotator.services import importing

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
        click.echo("This password is shown only once; change it at Password after logging in.")
    release_session()
    if not no_serve:
        _serve(host, port)


@cli.command("stats")
@click.option("--project", "project_name", type=TEXT, required=True, help="Project name.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
@click.option(
    "--outlet",
    type=TEXT,
    default=None,
    help=f"Only passages citing this outlet ({agreement.NO_OUTLET!r}: none).",
)
@click.option("--role", type=click.Choice(["author", "excerpt"]), default=None)
@click.option(
    "--label",
    type=click.Choice(agreement.LABELS),
    default=None,
    help="Only claims where someone chose it.",
)
@_document_scope_options
@with_appcontext
def stats_command(
    project_name: str,
    fmt: str,
    outlet: str | None,
    role: str | None,
    label: str | None,
    site: str | None,
    published_from: str | None,
    published_to: str | None,
) -> None:
    """Print the agreement figures of the project's agreement page."""
    session = get_session()
    try:
        project = agreement.project_named(session, project_name)
    except agreement.UnknownProject as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        documents = scope.parse_scope(session, project, site, published_from, published_to)
    except scope.ScopeError as exc:
        raise click.UsageError(str(exc)) from exc
    filters = agreement.RatingFilter(outlet=outlet, role=role, label=label, documents=documents)
    report = agreement.agreement_report(session, project, filters)
    if fmt == "json":
        click.echo(json.dumps(agreement.report_dict(report), indent=2, ensure_ascii=False))
    else:
        click.echo(agreement.format_table(report))
