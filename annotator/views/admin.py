"""Admin pages: importing articles, users, projects and outlets. Admins only.

Every change is a POST form with a CSRF token. A valid change redirects (post/redirect/get);
bad input flashes why, changes nothing and shows the page again with HTTP 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from annotator.db import get_session
from annotator.forms import (
    AliasForm,
    DeleteForm,
    EmptyForm,
    ImportForm,
    MemberForm,
    MemberRoleForm,
    MergeForm,
    OutletForm,
    PasswordResetForm,
    ProjectForm,
    RoleForm,
    UserForm,
)
from annotator.models import Outlet, Project, User
from annotator.services import (
    accounts,
    deleting,
    outlets,
    projects,
    readers,
    reanalysis_runs,
)
from annotator.services.dashboard import document_of
from annotator.views.dashboard import document_page
from annotator.views.imports import run_article_import

bp = Blueprint("admin", __name__, url_prefix="/admin")

SERVICE_ERRORS = (
    accounts.AccountError,
    projects.ProjectError,
    outlets.OutletError,
    deleting.DeletionError,
    reanalysis_runs.RunRefused,
)
T = TypeVar("T", User, Project, Outlet)
Message = str | Callable[[Any], str]


@bp.before_request
def _admins_only() -> None:
    """Runs after the app-wide login check, so ``current_user`` is a real user here."""
    if not current_user.is_admin:
        abort(403)


def _get_or_404(model: type[T], object_id: int) -> T:
    """The row with this id, or a 404 page."""
    found = get_session().get(model, object_id)
    if found is None:
        abort(404)
    return found


def _flash_errors(form: FlaskForm) -> None:
    """Flash every validation error of the form."""
    for field in form:
        for error in field.errors:
            flash(f"{field.label.text}: {error}", "error")


def _act(
    form: FlaskForm,
    action: Callable[[], Any],
    success: Message,
    target: Message,
    page: Callable[[], str],
) -> ResponseReturnValue:
    """Validate the form and run the service action; ``success`` and ``target`` may be built
    from the action's result. On bad input flash why and show ``page`` with HTTP 400
    (services validate before changing anything)."""
    if form.validate_on_submit():
        try:
            result = action()
        except SERVICE_ERRORS as exc:
            flash(str(exc), "error")
        else:
            flash(success(result) if callable(success) else success, "success")
            return redirect(target(result) if callable(target) else target)
    else:
        _flash_errors(form)
    return page(), 400


# Import


@bp.route("/import", methods=["GET", "POST"])
def import_articles() -> ResponseReturnValue:
    """Upload article files into a project."""
    form = ImportForm()
    report, results = None, []
    status = 200
    if form.validate_on_submit():
        report, results = run_article_import(form)
        stored = report.imported or report.changed or report.reanalysed
        status = 400 if report.failed and not stored else 200
    elif form.is_submitted():
        status = 400
    page = render_template(
        "admin/import.html",
        form=form,
        report=report,
        url_results=results,
        accepted_types=",".join(sorted(readers.SUPPORTED)),
    )
    return page, status


# Users


def _users_page(form: UserForm | None = None) -> str:
    """The users page, with one small form per user and action."""
    people = accounts.list_users(get_session())
    return render_template(
        "admin/users.html",
        form=form or UserForm(formdata=None),
        users=people,
        role_forms={u.id: RoleForm(formdata=None, role=u.role) for u in people},
        password_form=PasswordResetForm(formdata=None),
    )


@bp.route("/users", methods=["GET", "POST"])
def users() -> ResponseReturnValue:
    """List users; create one."""
    form = UserForm()
    if not form.is_submitted():
        return _users_page(form)
    return _act(
        form,
        lambda: accounts.create_user(
            get_session(), form.username.data or "", form.password.data or "", form.role.data
        ),
        f"Created {form.role.data} {form.username.data}.",
        url_for("admin.users"),
        lambda: _users_page(form),
    )


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another global role."""
    user = _get_or_404(User, user_id)
    form = RoleForm()
    return _act(
        form,
        lambda: accounts.change_role(get_session(), user, form.role.data, current_user),
        f"{user.username} is now {form.role.data}.",
        url_for("admin.users"),
        _users_page,
    )


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> ResponseReturnValue:
    """Set a new password for a user, ending their sessions."""
    user = _get_or_404(User, user_id)
    form = PasswordResetForm()
    return _act(
        form,
        lambda: accounts.set_password(get_session(), user, form.password.data or ""),
        f"New password set for {user.username}; their sessions have ended.",
        url_for("admin.users"),
        _users_page,
    )


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int) -> ResponseReturnValue:
    """Block a user from logging in and end their sessions."""
    user = _get_or_404(User, user_id)
    return _act(
        EmptyForm(),
        lambda: accounts.set_active(get_session(), user, False, current_user),
        f"Deactivated {user.username}; their sessions have ended.",
        url_for("admin.users"),
        _users_page,
    )


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int) -> ResponseReturnValue:
    """Let a deactivated user log in again."""
    user = _get_or_404(User, user_id)
    return _act(
        EmptyForm(),
        lambda: accounts.set_active(get_session(), user, True, current_user),
        f"Reactivated {user.username}.",
        url_for("admin.users"),
        _users_page,
    )


# Projects


def _settings(form: ProjectForm) -> projects.ProjectSettings:
    """The project settings the form holds."""
    return projects.ProjectSettings(
        name=form.name.data or "",
        guidelines=form.guidelines.data or "",
        loaded_terms=form.loaded_terms.data or "",
        overlap=form.overlap.data or 0,
        show_suggestions=bool(form.show_suggestions.data),
        reveal_labels=form.reveal_labels.data,
        open_to_all=bool(form.open_to_all.data),
    )


def _projects_page(form: ProjectForm | None = None) -> str:
    """The project list with the new-project form."""
    rows = projects.project_rows(get_session())
    return render_template(
        "admin/projects.html", rows=rows, form=form or ProjectForm(formdata=None)
    )


@bp.route("/projects", methods=["GET", "POST"])
def project_list() -> ResponseReturnValue:
    """List projects with their sizes; create one."""
    form = ProjectForm()
    if not form.is_submitted():
        return _projects_page(form)
    return _act(
        form,
        lambda: projects.create_project(get_session(), _settings(form)),
        f"Created project {form.name.data}.",
        lambda project: url_for("admin.project_detail", project_id=project.id),
        lambda: _projects_page(form),
    )


def _member_form(project: Project) -> MemberForm:
    """The add-member form, offering the users not yet in the project."""
    form = MemberForm()
    candidates = projects.non_members(get_session(), project)
    form.user_id.choices = [
        SelectChoice(str(u.id), u.username if u.active else f"{u.username} (inactive)")
        for u in candidates
    ]
    return form


def _project_page(
    project: Project, form: ProjectForm | None = None, delete_form: DeleteForm | None = None
) -> str:
    """A project's settings, members, membership forms and the form that deletes it."""
    session = get_session()
    members = projects.members_of(session, project)
    return render_template(
        "admin/project.html",
        project=project,
        form=form or ProjectForm(formdata=None, obj=project),
        members=members,
        member_form=_member_form(project),
        role_forms={m.user_id: MemberRoleForm(formdata=None, role=m.role) for m in members},
        footprint=(
            deleting.project_footprint(session, project) if deleting.is_deletable(project) else None
        ),
        delete_form=delete_form or DeleteForm(formdata=None),
        reanalysis=reanalysis_runs.latest(session, project),
    )


@bp.route("/projects/<int:project_id>", methods=["GET", "POST"])
def project_detail(project_id: int) -> ResponseReturnValue:
    """Show a project's settings and members; save the settings."""
    project = _get_or_404(Project, project_id)
    form = ProjectForm(obj=project)
    if not form.is_submitted():
        return _project_page(project, form)
    return _act(
        form,
        lambda: projects.update_project(get_session(), project, _settings(form)),
        f"Saved the settings of {form.name.data}.",
        url_for("admin.project_detail", project_id=project.id),
        lambda: _project_page(project, form),
    )


@bp.post("/projects/<int:project_id>/delete")
def delete_project(project_id: int) -> ResponseReturnValue:
    """Delete a project with its documents, members and everything recorded on them."""
    project = _get_or_404(Project, project_id)
    name = project.name
    form = DeleteForm()
    return _act(
        form,
        lambda: deleting.delete_project(get_session(), project_id),
        lambda gone: f"Deleted the project {name!r}: {gone.summary()}.",
        url_for("admin.project_list"),
        lambda: _project_page(project, delete_form=form),
    )


@bp.post("/projects/<int:project_id>/reanalyse")
def reanalyse_project(project_id: int) -> ResponseReturnValue:
    """Analyse the project's documents again from the text each was imported with."""
    return _reanalyse(project_id, preview=False)


@bp.post("/projects/<int:project_id>/reanalyse/preview")
def preview_reanalysis(project_id: int) -> ResponseReturnValue:
    """What analysing the project's documents again would change; nothing is changed."""
    return _reanalyse(project_id, preview=True)


@bp.post("/projects/<int:project_id>/reanalyse/cancel")
def cancel_reanalysis(project_id: int) -> ResponseReturnValue:
    """Ask the project's background reanalysis to stop after the batch under way."""
    project = _get_or_404(Project, project_id)
    return _act(
        FlaskForm(),
        lambda: reanalysis_runs.cancel(get_session(), project, current_user),
        "The run stops after the batch under way; this page shows where it stopped.",
        url_for("admin.project_detail", project_id=project.id, _anchor="reanalyse-project"),
        lambda: _project_page(project),
    )


def _reanalyse(project_id: int, preview: bool) -> ResponseReturnValue:
    """Start the run in a process of its own; the project page follows it."""
    project = _get_or_404(Project, project_id)

    def start() -> int:
        run_id = reanalysis_runs.start(get_session(), project, current_user, preview=preview)
        reanalysis_runs.launch(current_app.config["DATABASE_URL"], run_id)
        return run_id

    what = "Previewing what analysing the documents" if preview else "Analysing the documents"
    return _act(
        FlaskForm(),
        start,
        f"{what} of {project.name!r} again; this page shows how far it has got.",
        url_for("admin.project_detail", project_id=project.id, _anchor="reanalyse-project"),
        lambda: _project_page(project),
    )


@bp.post("/projects/<int:project_id>/members")
def add_member(project_id: int) -> ResponseReturnValue:
    """Add a user to the project with a project role."""
    project = _get_or_404(Project, project_id)
    form = _member_form(project)
    user = get_session().get(User, form.user_id.data) if form.user_id.data else None
    return _act(
        form,
        lambda: projects.enrol_member(get_session(), project, _known(user), form.role.data),
        f"Added {user.username if user else ''} as {form.role.data}.",
        url_for("admin.project_detail", project_id=project.id),
        lambda: _project_page(project),
    )


def _known(user: User | None) -> User:
    """The form only offers existing users, so None here means a stale page."""
    if user is None:
        raise projects.ProjectError("Unknown user; reload the page and choose again.")
    return user


@bp.post("/projects/<int:project_id>/members/<int:user_id>/role")
def change_member_role(project_id: int, user_id: int) -> ResponseReturnValue:
    """Give a member another project role."""
    project = _get_or_404(Project, project_id)
    form = MemberRoleForm()
    return _act(
        form,
        lambda: projects.change_member_role(get_session(), project, user_id, form.role.data),
        f"Changed the project role to {form.role.data}.",
        url_for("admin.project_detail", project_id=project.id),
        lambda: _project_page(project),
    )


@bp.post("/projects/<int:project_id>/members/<int:user_id>/remove")
def remove_member(project_id: int, user_id: int) -> ResponseReturnValue:
    """Take a user out of the project."""
    project = _get_or_404(Project, project_id)
    return _act(
        EmptyForm(),
        lambda: projects.remove_member(get_session(), project, user_id),
        f"Removed the member from {project.name}.",
        url_for("admin.project_detail", project_id=project.id),
        lambda: _project_page(project),
    )


@bp.post("/projects/<int:project_id>/documents/<int:document_id>/delete")
def delete_document(project_id: int, document_id: int) -> ResponseReturnValue:
    """Delete a document with its passages and everything recorded on them."""
    project = _get_or_404(Project, project_id)
    document = document_of(get_session(), project, document_id)
    if document is None:
        abort(404)
    title = document.title
    form = DeleteForm()
    return _act(
        form,
        lambda: deleting.delete_document(get_session(), document_id),
        lambda gone: f"Deleted {title!r}: {gone.summary()}.",
        url_for("dashboard.show", project_id=project.id),
        lambda: document_page(project, document, form),
    )


# Outlets


def _outlet_fields(form: OutletForm) -> tuple[str, str, str]:
    """Name, homepage and notes as the form holds them."""
    return form.name.data or "", form.homepage.data or "", form.notes.data or ""


def _outlets_page(form: OutletForm | None = None) -> str:
    """The outlet list with the new-outlet form."""
    rows = outlets.outlet_rows(get_session())
    return render_template("admin/outlets.html", rows=rows, form=form or OutletForm(formdata=None))


@bp.route("/outlets", methods=["GET", "POST"])
def outlet_list() -> ResponseReturnValue:
    """List outlets with aliases and citing passages; create one."""
    form = OutletForm()
    if not form.is_submitted():
        return _outlets_page(form)
    return _act(
        form,
        lambda: outlets.create_outlet(get_session(), *_outlet_fields(form)),
        f"Created outlet {form.name.data}.",
        url_for("admin.outlet_list"),
        lambda: _outlets_page(form),
    )


def _outlet_page(outlet: Outlet, form: OutletForm | None = None) -> str:
    """An outlet's settings, aliases and merge form."""
    session = get_session()
    others = [o for o in outlets.list_outlets(session) if o.id != outlet.id]
    return render_template(
        "admin/outlet.html",
        outlet=outlet,
        merge_targets=others,
        passages=outlets.passage_count(session, outlet),
        form=form or OutletForm(formdata=None, obj=outlet),
        alias_form=AliasForm(formdata=None),
    )


@bp.route("/outlets/<int:outlet_id>", methods=["GET", "POST"])
def outlet_detail(outlet_id: int) -> ResponseReturnValue:
    """Show an outlet; save its name, homepage and notes."""
    outlet = _get_or_404(Outlet, outlet_id)
    form = OutletForm(obj=outlet)
    if not form.is_submitted():
        return _outlet_page(outlet, form)
    return _act(
        form,
        lambda: outlets.update_outlet(get_session(), outlet, *_outlet_fields(form)),
        f"Saved outlet {form.name.data}.",
        url_for("admin.outlet_detail", outlet_id=outlet.id),
        lambda: _outlet_page(outlet, form),
    )


@bp.post("/outlets/<int:outlet_id>/aliases")
def add_alias(outlet_id: int) -> ResponseReturnValue:
    """Give the outlet another name that imports will recognise."""
    outlet = _get_or_404(Outlet, outlet_id)
    form = AliasForm()
    return _act(
        form,
        lambda: outlets.add_alias(get_session(), outlet, form.alias.data or ""),
        f"Added the alias {form.alias.data} to {outlet.name}.",
        url_for("admin.outlet_detail", outlet_id=outlet.id),
        lambda: _outlet_page(outlet),
    )


@bp.post("/outlets/<int:outlet_id>/aliases/<int:alias_id>/remove")
def remove_alias(outlet_id: int, alias_id: int) -> ResponseReturnValue:
    """Remove one of the outlet's aliases."""
    outlet = _get_or_404(Outlet, outlet_id)
    return _act(
        EmptyForm(),
        lambda: outlets.remove_alias(get_session(), outlet, alias_id),
        f"Removed an alias of {outlet.name}.",
        url_for("admin.outlet_detail", outlet_id=outlet.id),
        lambda: _outlet_page(outlet),
    )


@bp.post("/outlets/<int:outlet_id>/merge")
def merge_outlet(outlet_id: int) -> ResponseReturnValue:
    """Fold this outlet into another one."""
    outlet = _get_or_404(Outlet, outlet_id)
    form = MergeForm()
    return _act(
        form,
        lambda: outlets.merge_outlets(get_session(), outlet.id, form.target_id.data or 0),
        lambda target: f"Merged {outlet.name} into {target.name}; its names are aliases there.",
        lambda target: url_for("admin.outlet_detail", outlet_id=target.id),
        lambda: _outlet_page(outlet),
    )
