"""Agreement, adjudication and report pages of a project.

Agreement and the outlet report are open to every project member; adjudication, reviewer
accuracy and the reviewer report are for curators (non-members get 404, reviewers 403).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from annotator.db import get_session, streamed
from annotator.models import Claim, FinalLabel, Label, PassageRole, Project
from annotator.services import (
    adjudication,
    agreement,
    annotating,
    outlet_claims,
    outlet_disputes,
    outlets,
    passage_decisions,
    projects,
    reports,
    scope,
)
from annotator.services import term_report as term_reports
from annotator.services.adjudication import AdjudicationError, QueueFilter, StaleFinal
from annotator.services.agreement import NO_OUTLET, RatingFilter
from annotator.services.records import is_whole_number
from annotator.services.scope import SCOPE_KEYS, DocumentScope, ScopeError
from annotator.views import requested_page
from annotator.views.passages import load_project

bp = Blueprint("reports", __name__)

LABELS = [label.value for label in Label]
ROLES = [role.value for role in PassageRole]
PAIR_SEPARATOR = "-"
LABEL_PAIRS = [(a, b) for i, a in enumerate(LABELS) for b in LABELS[i + 1 :]]
CHART_LEFT, CHART_WIDTH, CHART_ROW = 190, 480, 28
# What the list of the claims behind the outlet report keeps across a settle
LIST_ARGS = ("outlet", "label", "role", "basis", "page", *SCOPE_KEYS)


def _curated_project(project_id: int) -> Project:
    """The project if the user curates it: 404 for non-members, 403 for reviewers."""
    project = load_project(project_id)
    if not projects.can_curate(get_session(), current_user, project):
        abort(403)
    return project


def _choice(name: str, allowed: list[str]) -> str | None:
    value = request.args.get(name, "")
    return value if value in allowed else None


def _rating_filter(project: Project) -> RatingFilter:
    """The agreement figures' filters as the request gives them; ``ScopeError`` for a site or
    period that names nothing."""
    return RatingFilter(
        outlet=request.args.get("outlet") or None,
        role=_choice("role", ROLES),
        label=_choice("label", LABELS),
        documents=_requested_scope(project),
    )


def _queue_filter() -> QueueFilter:
    """The queue's filters as the request gives them, but for the documents (a scope may
    name nothing: see ``_scoped_queue_filter``)."""
    given = request.args.get("pair", "").split(PAIR_SEPARATOR)
    pair = next((p for p in LABEL_PAIRS if sorted(p) == sorted(given)), None)
    return QueueFilter(
        outlet=request.args.get("outlet") or None,
        role=_choice("role", ROLES),
        pair=pair,
        reviewer=request.args.get("reviewer") or None,
        include_settled=request.args.get("settled") == "1",
    )


def _scoped_queue_filter(project: Project) -> QueueFilter:
    """All the queue's filters; ``ScopeError`` for a site or period that names nothing."""
    return replace(_queue_filter(), documents=_requested_scope(project))


def _filter_args() -> dict[str, Any]:
    """The current query string minus the page number, to carry filters through forms."""
    return {k: v for k, v in request.args.items() if k != "page" and v}


@bp.route("/projects/<int:project_id>/agreement")
def agreement_page(project_id: int) -> ResponseReturnValue:
    project = load_project(project_id)
    session = get_session()
    sites, context = _scope_menu(project)
    context |= {
        "project": project,
        "outlets": agreement.outlet_names(session, project),
        "roles": ROLES,
        "labels": LABELS,
    }
    try:
        filters = _rating_filter(project)
    except ScopeError as exc:
        flash(str(exc), "error")
        unscoped = RatingFilter(request.args.get("outlet"), _choice("role", ROLES))
        return render_template(
            "reports/agreement.html", report=None, filters=unscoped, **context
        ), 400
    ratings = agreement.load_ratings(session, project, filters)
    curator = projects.can_curate(session, current_user, project)
    context |= {
        "report": agreement.build_report(project.name, ratings, filters),
        "filters": filters,
        "counts": scope.scope_counts(session, project, filters.documents, sites.documents),
        "curator": curator,
        "suggester": agreement.suggester_confusion(session, project, filters),
    }
    if curator:
        context.update(_curator_figures(ratings))
    return render_template("reports/agreement.html", **context)


def _curator_figures(ratings: agreement.Ratings) -> dict[str, Any]:
    """Reviewer-level figures: accuracy against settled labels and a pair's confusion."""
    reviewers = agreement.reviewers_of(ratings)
    first = request.args.get("a") if request.args.get("a") in reviewers else None
    second = request.args.get("b") if request.args.get("b") in reviewers else None
    if len(reviewers) >= 2:
        first = first or reviewers[0]
        second = second or next(r for r in reviewers if r != first)
    pair = agreement.reviewer_confusion(ratings, first, second) if first and second else None
    return {
        "reviewers": reviewers,
        "pair": pair,
        "accuracy": agreement.reviewer_accuracy(ratings),
    }


@bp.route("/projects/<int:project_id>/agreement.json")
def agreement_json(project_id: int) -> ResponseReturnValue:
    """The figures of the agreement page, as ``annotator stats --format json`` prints them."""
    project = load_project(project_id)
    try:
        filters = _rating_filter(project)
    except ScopeError as exc:
        return jsonify(ok=False, error=str(exc)), 400
    report = agreement.agreement_report(get_session(), project, filters)
    return jsonify(agreement.report_dict(report))


@bp.route("/projects/<int:project_id>/adjudicate")
def adjudicate(project_id: int) -> ResponseReturnValue:
    return _queue_page(_curated_project(project_id))


def _queue_page(project: Project, status: int = 200) -> ResponseReturnValue:
    """The queue, or with a site or period that names nothing, the form and the reason (400)."""
    session = get_session()
    page = requested_page()
    _, context = _scope_menu(project)
    filters, queue = _queue_filter(), None
    try:
        filters = _scoped_queue_filter(project)
        queue = adjudication.disagreement_queue(session, project, filters, page)
    except ScopeError as exc:
        flash(str(exc), "error")
        status = 400
    context |= {
        "project": project,
        "queue": queue,
        "filters": filters,
        "filter_args": _filter_args(),
        "outlets": agreement.outlet_names(session, project),
        "reviewers": [m.user.username for m in projects.members_of(session, project)],
        "roles": ROLES,
        "labels": LABELS,
        "pairs": LABEL_PAIRS,
    }
    return render_template("reports/adjudicate.html", **context), status


@bp.route("/projects/<int:project_id>/adjudicate/<int:claim_id>", methods=["POST"])
def settle(project_id: int, claim_id: int) -> ResponseReturnValue:
    """Settle one claim (form or JSON ``{"label", "version"}``); stale versions get 409."""
    project = _curated_project(project_id)
    wants_json = request.is_json
    data: Any = request.get_json(silent=True) if wants_json else request.form
    if not hasattr(data, "get"):
        abort(400)
    label, version = str(data.get("label", "")), str(data.get("version", ""))
    if not is_whole_number(version):
        return _refuse(project, "The form was altered: the version is not a number.", 400)
    try:
        final = adjudication.settle(
            get_session(), current_user, project, claim_id, label, int(version)
        )
    except adjudication.UnknownClaim:
        abort(404)
    except adjudication.NotCurator:
        abort(403)
    except StaleFinal as exc:
        current = exc.current
        state = {"label": current.label, "version": current.version} if current else None
        return _refuse(project, str(exc), 409, current=state)
    except AdjudicationError as exc:
        return _refuse(project, str(exc), 400)
    if wants_json:
        return jsonify(ok=True, label=final.label, version=final.version)
    flash(f"Settled as {final.label}.", "success")
    return _back_to_the_list(project)


def _back_to_the_list(project: Project) -> ResponseReturnValue:
    """After a settle from a form: the list it came from (``from=claims``: the claims behind
    the outlet report, with its choices and page; otherwise the queue, with its filters)."""
    if request.args.get("from") == "claims":
        kept: dict[str, Any] = {k: request.args[k] for k in LIST_ARGS if request.args.get(k)}
        return redirect(url_for("reports.outlet_claim_list", project_id=project.id, **kept))
    return redirect(url_for("reports.adjudicate", project_id=project.id, **_filter_args()))


def _refuse(
    project: Project, message: str, status: int, current: Any = None
) -> ResponseReturnValue:
    if request.is_json:
        return jsonify(ok=False, error=message, current=current), status
    flash(message, "error")
    if request.args.get("from") == "claims":  # the list shows the current label again
        return _back_to_the_list(project)
    return _queue_page(project, status)


@bp.route("/projects/<int:project_id>/adjudicate/outlets")
def outlet_dispute_queue(project_id: int) -> ResponseReturnValue:
    return _outlet_disputes_page(_curated_project(project_id))


def _outlet_disputes_page(project: Project, status: int = 200) -> ResponseReturnValue:
    session = get_session()
    page, include_decided = requested_page(), request.args.get("decided") == "1"
    return render_template(
        "reports/outlet_disputes.html",
        project=project,
        disputes=outlet_disputes.outlet_disputes(
            session, project, page, include_decided=include_decided
        ),
        include_decided=include_decided,
        page=page,
        per_page=outlet_disputes.PER_PAGE,
        outlets=outlets.list_outlets(session),
        author_own_words=annotating.AUTHOR_OWN_WORDS,
    ), status


@bp.route("/projects/<int:project_id>/adjudicate/outlets/<int:passage_id>", methods=["POST"])
def set_outlet(project_id: int, passage_id: int) -> ResponseReturnValue:
    """Set (or confirm) a passage's outlet; the form says which outlet it showed (409 when
    the passage's outlet changed meanwhile)."""
    project = _curated_project(project_id)
    choice, seen = request.form.get("outlet", ""), request.form.get("seen", "")
    try:
        passage = passage_decisions.set_passage_outlet(
            get_session(), current_user, project, passage_id, choice, seen
        )
    except LookupError:
        abort(404)
    except passage_decisions.StaleDecision as exc:
        flash(str(exc), "error")
        return _outlet_disputes_page(project, 409)
    except passage_decisions.DecisionError as exc:
        flash(str(exc), "error")
        return _outlet_disputes_page(project, 400)
    outlet = passage.outlet.name if passage.outlet else outlet_disputes.AUTHOR_OWN_WORDS_NAME
    flash(f"Passage {passage.index + 1} of its document now cites: {outlet}.", "success")
    return redirect(
        url_for("reports.outlet_dispute_queue", project_id=project.id, **_dispute_args())
    )


def _dispute_args() -> dict[str, Any]:
    return {name: request.args[name] for name in ("page", "decided") if request.args.get(name)}


@bp.route("/projects/<int:project_id>/adjudicate/unanimous", methods=["POST"])
def accept_unanimous(project_id: int) -> ResponseReturnValue:
    """Settle every unanimous claim (within the outlet, role, reviewer, site and period
    filters) at once."""
    project = _curated_project(project_id)
    try:
        filters = _scoped_queue_filter(project)
    except ScopeError:
        return _queue_page(project)  # which says why, with 400
    try:
        accepted = adjudication.accept_unanimous(get_session(), current_user, project, filters)
    except AdjudicationError as exc:
        return _refuse(project, str(exc), 409)
    if request.is_json:
        return jsonify(ok=True, accepted=accepted)
    flash(f"Accepted {accepted} unanimous label{'s' if accepted != 1 else ''}.", "success")
    return redirect(url_for("reports.adjudicate", project_id=project.id, **_filter_args()))


@dataclass(frozen=True)
class Segment:
    label: str
    x: float
    width: float
    share: float


def _segments(row: reports.OutletRow) -> list[Segment]:
    """The stacked bar of one outlet: one segment per label, widths in SVG units."""
    segments, x = [], float(CHART_LEFT)
    for label in LABELS:
        share = row.shares[label].share or 0.0
        segments.append(Segment(label, x, share * CHART_WIDTH, share))
        x += share * CHART_WIDTH
    return segments


def _scope_args() -> dict[str, str]:
    """A report's document scope as the request gave it, to carry into links."""
    return {name: request.args[name] for name in SCOPE_KEYS if request.args.get(name)}


def _scope_menu(project: Project) -> tuple[scope.ProjectSites, dict[str, Any]]:
    """The project's sites, and what a page's site and period fields show."""
    sites = scope.project_sites(get_session(), project)
    return sites, {"sites": sites.sites, "scope_args": _scope_args()}


def _requested_scope(project: Project) -> DocumentScope:
    return scope.parse_scope(get_session(), project, *(request.args.get(n) for n in SCOPE_KEYS))


def _scoped_page(
    template: str,
    project: Project,
    build: Callable[[reports.Basis, DocumentScope], dict[str, Any]],
    **context: Any,
) -> ResponseReturnValue:
    """A report of the labels counted on a basis, in a scope of documents: ``build`` makes
    what the template shows from them. A scope that names nothing shows the form again, with
    the reason and no figures (400)."""
    session = get_session()
    basis = reports.parse_basis(request.args.get("basis"))
    sites, menu = _scope_menu(project)
    context |= menu | {
        "project": project,
        "bases": list(reports.Basis),
        "basis": basis,
        "basis_text": reports.BASIS_TEXT,
        "labels": LABELS,
    }
    try:
        chosen = _requested_scope(project)
    except ScopeError as exc:
        flash(str(exc), "error")
        return render_template(template, report=None, **context), 400
    counts = scope.scope_counts(session, project, chosen, sites.documents)
    return render_template(template, scope=chosen, counts=counts, **build(basis, chosen), **context)


def _scoped_csv(
    project: Project,
    build: Callable[[reports.Basis, DocumentScope], tuple[Iterable[str], str]],
) -> ResponseReturnValue:
    """A report's CSV download; ``build`` gives its text and file name."""
    basis = reports.parse_basis(request.args.get("basis"))
    try:
        chosen = _requested_scope(project)
    except ScopeError as exc:
        return render_template("errors/error.html", message=str(exc)), 400
    text, filename = build(basis, chosen)
    return Response(
        stream_with_context(iter(text)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/projects/<int:project_id>/reports/outlets")
def outlet_report(project_id: int) -> ResponseReturnValue:
    project = load_project(project_id)
    sort = request.args.get("sort", "outlet")
    sort = sort if sort in reports.SORT_KEYS else "outlet"
    descending = request.args.get("order") == "desc"

    def build(basis: reports.Basis, chosen: DocumentScope) -> dict[str, Any]:
        report = reports.outlet_report(get_session(), project, basis, chosen)
        rows = reports.sort_rows(report.rows, sort, descending)
        return {"report": report, "rows": rows, "bars": [(r, _segments(r)) for r in rows]}

    return _scoped_page(
        "reports/outlets.html",
        project,
        build,
        sort=sort,
        descending=descending,
        chart={"left": CHART_LEFT, "width": CHART_WIDTH, "row": CHART_ROW},
        curator=curates(project),
    )


@bp.route("/projects/<int:project_id>/reports/outlets/claims")
def outlet_claim_list(project_id: int) -> ResponseReturnValue:
    """The claims behind a cell of the outlet report. For curators: it shows who gave which
    label, which a reviewer may not see before completing the passage."""
    project = _curated_project(project_id)
    session = get_session()
    outlet, label, role = _claims_asked()
    page = requested_page()

    def build(basis: reports.Basis, chosen: DocumentScope) -> dict[str, Any]:
        choice = outlet_claims.Choice(outlet, basis, label, role, chosen)
        return {"listed": outlet_claims.outlet_claims(session, project, choice, page)}

    cited = [name for name in agreement.outlet_names(session, project) if name != NO_OUTLET]
    return _scoped_page(
        "reports/outlet_claims.html",
        project,
        build,
        outlet=outlet,
        outlets=cited,
        label=label,
        role=role,
        roles=ROLES,
        page=page,
    )


@bp.route("/projects/<int:project_id>/reports/outlets/claims.csv")
def outlet_claims_csv(project_id: int) -> ResponseReturnValue:
    """Every claim of the list above, as CSV."""
    project = _curated_project(project_id)
    outlet, label, role = _claims_asked()

    def build(basis: reports.Basis, chosen: DocumentScope) -> tuple[Iterable[str], str]:
        choice = outlet_claims.Choice(outlet, basis, label, role, chosen)
        text = streamed(lambda session: outlet_claims.iter_claims_csv(session, project, choice))
        return text, outlet_claims.claims_csv_name(project, choice)

    return _scoped_csv(project, build)


def _claims_asked() -> tuple[str | None, str | None, str | None]:
    """The outlet (404 when none has that name), label and passage role the request asks for."""
    outlet = request.args.get("outlet") or None
    if outlet is not None and not outlet_claims.outlet_exists(get_session(), outlet):
        abort(404, description=f"There is no outlet named {outlet!r}.")
    return outlet, _choice("label", LABELS), _choice("role", ROLES)


@bp.route("/projects/<int:project_id>/reports/outlets.csv")
def outlet_csv(project_id: int) -> ResponseReturnValue:
    project = load_project(project_id)

    def build(basis: reports.Basis, chosen: DocumentScope) -> tuple[Iterable[str], str]:
        report = reports.outlet_report(get_session(), project, basis, chosen)
        return reports.iter_outlet_csv(report), reports.report_csv_name(
            "outlets", project, basis, chosen
        )

    return _scoped_csv(project, build)


@bp.route("/projects/<int:project_id>/reports/terms")
def term_report(project_id: int) -> ResponseReturnValue:
    project = load_project(project_id)

    def build(basis: reports.Basis, chosen: DocumentScope) -> dict[str, Any]:
        return {"report": term_reports.term_report(get_session(), project, basis, chosen)}

    return _scoped_page("reports/terms.html", project, build)


@bp.route("/projects/<int:project_id>/reports/terms-<table>.csv")
def term_csv(project_id: int, table: str) -> ResponseReturnValue:
    """The loaded terms report's tables: ``by-outlet`` and ``by-term``."""
    project = load_project(project_id)
    if table not in term_reports.CSV_TABLES:
        abort(404)

    def build(basis: reports.Basis, chosen: DocumentScope) -> tuple[Iterable[str], str]:
        report = term_reports.term_report(get_session(), project, basis, chosen)
        name = reports.report_csv_name(f"terms-{table}", project, basis, chosen)
        return term_reports.CSV_TABLES[table](report), name

    return _scoped_csv(project, build)


@bp.route("/projects/<int:project_id>/reports/reviewers")
def reviewer_report(project_id: int) -> ResponseReturnValue:
    project = _curated_project(project_id)
    rows = reports.reviewer_report(get_session(), project)
    return render_template("reports/reviewers.html", project=project, rows=rows)


@bp.app_template_global()
def curates(project: Project) -> bool:
    """Whether the current user curates ``project`` (for links and curator-only blocks)."""
    return projects.can_curate(get_session(), current_user, project)


@bp.app_template_global()
def final_label_of(claim: Claim) -> FinalLabel | None:
    """The claim's settled label, loaded once per passage and request."""
    cache: dict[int, dict[int, FinalLabel]] = g.setdefault("final_labels", {})
    if claim.passage_id not in cache:
        cache[claim.passage_id] = adjudication.passage_final_labels(get_session(), claim.passage_id)
    return cache[claim.passage_id].get(claim.id)
