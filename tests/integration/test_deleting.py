"""An admin deletes a document from its overview page, or a whole project from its settings
page: its passages, claims, labels, reviews, settled labels and history go, in one
transaction, and nothing of the other documents or projects does; without the confirmation
nothing changes; the project's JSONL export brings a deleted document back."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from annotator.db import Base
from annotator.models import (
    Annotation,
    Change,
    Claim,
    Document,
    FinalLabel,
    MemberRole,
    Passage,
    Project,
    ProjectMember,
    Review,
    Role,
    User,
)
from annotator.services import projects
from annotator.services.importing import import_files
from tests.helpers import import_fixture

CLAIM = re.compile(r'<fieldset class="claim[^"]*" id="claim-(\d+)"')


@pytest.fixture
def project(session, make_user):
    """Two documents; ann and bob label the first passages of both, ann skips one."""
    import_fixture(session, "harbour.txt", "two.jsonl", project="study")
    found = session.scalar(select(Project).where(Project.name == "study"))
    found.open_to_all = True
    session.commit()
    for name in ("ann", "bob"):
        make_user(name)
    make_user("boss", Role.ADMIN)
    return found


def user_named(session, name):
    return session.scalar(select(User).where(User.username == name))


def documents_of(session, project) -> list[Document]:
    return list(
        session.scalars(
            select(Document).where(Document.project_id == project.id).order_by(Document.id)
        )
    )


def label_first_passages(client, session, document, label, how_many=2):
    passages = session.scalars(
        select(Passage)
        .where(Passage.document_id == document.id, Passage.claim_count > 0)
        .order_by(Passage.index)
        .limit(how_many)
    ).all()
    for passage in passages:
        claims = CLAIM.findall(client.get(f"/passages/{passage.id}").text)
        body = {"labels": dict.fromkeys(claims, label), "versions": dict.fromkeys(claims, 0)}
        assert client.post(f"/passages/{passage.id}", json=body).status_code == 200
    return passages


def work_on(client, login, session, project):
    """Labels, a skip and a settled label on both documents; returns the documents."""
    first, second = documents_of(session, project)[:2]
    for name, label in (("ann", "reported"), ("bob", "quoted")):
        login(name)
        for document in (first, second):
            label_first_passages(client, session, document, label)
    login("ann")
    skipped = session.scalars(
        select(Passage.id)
        .where(Passage.document_id == first.id, Passage.claim_count > 0)
        .order_by(Passage.index.desc())
    ).first()
    assert client.post(f"/passages/{skipped}/skip", data={"reason": "x"}).status_code == 302
    login("boss")
    claim = session.scalars(
        select(Claim.id).join(Passage).where(Passage.document_id == first.id).order_by(Claim.id)
    ).first()
    settle = client.post(
        f"/projects/{project.id}/adjudicate/{claim}", data={"label": "quoted", "version": "0"}
    )
    assert settle.status_code in (200, 302)
    return first, second


def rows_of(session, document_id) -> dict[str, int]:
    """How many rows of each kind hang on the document."""
    passages = select(Passage.id).where(Passage.document_id == document_id)
    claims = select(Claim.id).where(Claim.passage_id.in_(passages))
    kinds = {
        "passages": select(Passage.id).where(Passage.document_id == document_id),
        "claims": claims,
        "labels": select(Annotation.id).where(Annotation.claim_id.in_(claims)),
        "reviews": select(Review.id).where(Review.document_id == document_id),
        "settled": select(FinalLabel.id).where(FinalLabel.claim_id.in_(claims)),
        "history": select(Change.id).where(Change.passage_id.in_(passages)),
    }
    session.expire_all()
    return {name: len(session.scalars(query).all()) for name, query in kinds.items()}


def test_admin_deletes_a_document_and_everything_on_it(client, login, session, project):
    first, second = work_on(client, login, session, project)
    before, kept = rows_of(session, first.id), rows_of(session, second.id)
    assert all(before.values()), before
    overview = html.unescape(client.get(f"/projects/{project.id}/documents/{first.id}").text)
    assert (
        f"removes its {before['passages']} passages and {before['claims']} claims with the "
        f"{before['labels']} labels 2 reviewers gave them, {before['settled']} settled label,"
    ) in " ".join(overview.split())
    url = f"/admin/projects/{project.id}/documents/{first.id}/delete"
    response = client.post(url, data={"confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projects/{project.id}/dashboard")
    dashboard = html.unescape(client.get(response.headers["Location"]).text)
    assert f"Deleted {first.title!r}: {before['passages']} passages" in dashboard
    assert f"{before['labels']} labels by 2 reviewers, 1 settled label." in dashboard
    assert session.scalar(select(Document.id).where(Document.id == first.id)) is None
    gone_id = first.id
    assert set(rows_of(session, gone_id).values()) == {0}
    assert rows_of(session, second.id) == kept
    assert client.get(f"/projects/{project.id}/documents/{gone_id}").status_code == 404
    again = client.post(url, data={"confirm": "y"})
    assert again.status_code == 404


def fingerprint(session) -> dict[str, int]:
    session.expire_all()
    return {
        table.name: len(session.execute(select(table)).all())
        for table in Base.metadata.sorted_tables
    }


def test_without_the_confirmation_nothing_is_deleted(client, login, session, project):
    first, _ = work_on(client, login, session, project)
    before = fingerprint(session)
    url = f"/admin/projects/{project.id}/documents/{first.id}/delete"
    for data in ({}, {"confirm": ""}):
        response = client.post(url, data=data)
        assert response.status_code == 400
        assert "Tick the box to confirm the deletion." in response.text
        assert 'id="delete-document"' in response.text, "the overview is shown again"
    assert fingerprint(session) == before


def test_only_admins_see_the_form_and_only_for_the_projects_own_documents(
    client, login, session, project
):
    first = documents_of(session, project)[0]
    login("ann")
    page = client.get(f"/projects/{project.id}/documents/{first.id}").text
    assert 'id="delete-document"' not in page
    url = f"/admin/projects/{project.id}/documents/{first.id}/delete"
    assert client.post(url, data={"confirm": "y"}).status_code == 403
    import_fixture(session, "two.jsonl", project="elsewhere")
    elsewhere = session.scalar(select(Project).where(Project.name == "elsewhere"))
    login("boss")
    assert 'id="delete-document"' in client.get(f"/projects/{project.id}/documents/{first.id}").text
    wrong = f"/admin/projects/{elsewhere.id}/documents/{first.id}/delete"
    assert client.post(wrong, data={"confirm": "y"}).status_code == 404
    assert session.scalar(select(Document.id).where(Document.id == first.id)) == first.id


def test_the_projects_jsonl_export_brings_a_deleted_document_back(client, login, session, project):
    first, _ = work_on(client, login, session, project)
    external_id, before = first.external_id, rows_of(session, first.id)
    backup = client.get("/export/annotations.jsonl?project=study").get_data()
    client.post(f"/admin/projects/{project.id}/documents/{first.id}/delete", data={"confirm": "y"})
    report = import_files(session, [("backup.jsonl", backup)], "study")
    assert not report.failed
    restored = session.scalar(
        select(Document).where(
            Document.project_id == project.id, Document.external_id == external_id
        )
    )
    assert restored is not None
    after = rows_of(session, restored.id)
    for kind in ("passages", "claims", "labels", "settled"):
        assert after[kind] == before[kind], kind


def project_rows(session, project_id) -> dict[str, int]:
    session.expire_all()
    kinds = {
        "documents": select(Document.id).where(Document.project_id == project_id),
        "passages": select(Passage.id).where(Passage.project_id == project_id),
        "labels": select(Annotation.id).where(Annotation.project_id == project_id),
        "reviews": select(Review.id).where(Review.project_id == project_id),
        "settled": select(FinalLabel.id).where(FinalLabel.project_id == project_id),
        "members": select(ProjectMember.id).where(ProjectMember.project_id == project_id),
    }
    return {name: len(session.scalars(query).all()) for name, query in kinds.items()}


def test_admin_deletes_a_project_and_nothing_else(client, login, session, project):
    work_on(client, login, session, project)
    projects.add_member(session, project, user_named(session, "ann"), MemberRole.CURATOR)
    import_fixture(session, "harbour.txt", project="other")
    other = session.scalar(select(Project).where(Project.name == "other"))
    project_id, other_id = project.id, other.id
    before, kept = project_rows(session, project_id), project_rows(session, other_id)
    assert all(before.values()), before
    page = " ".join(html.unescape(client.get(f"/admin/projects/{project_id}").text).split())
    assert (
        f"removes its {before['documents']} documents and {before['passages']} passages with the "
        f"{before['labels']} labels 2 reviewers gave them"
    ) in page
    response = client.post(f"/admin/projects/{project_id}/delete", data={"confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/projects")
    listing = html.unescape(client.get("/admin/projects").text)
    assert f"Deleted the project 'study': {before['documents']} documents" in listing
    assert set(project_rows(session, project_id).values()) == {0}
    assert session.scalar(select(Project.id).where(Project.id == project_id)) is None
    assert project_rows(session, other_id) == kept
    assert client.get(f"/projects/{project_id}/dashboard").status_code == 404


def test_a_project_is_deleted_only_when_confirmed_and_never_the_default(
    client, login, session, project
):
    work_on(client, login, session, project)
    import_fixture(session, "harbour.txt")
    default = session.scalar(select(Project).where(Project.name == "default"))
    before = fingerprint(session)
    response = client.post(f"/admin/projects/{project.id}/delete", data={})
    assert response.status_code == 400
    assert "Tick the box to confirm the deletion." in response.text
    page = client.get(f"/admin/projects/{default.id}").text
    assert 'id="delete-project"' in page
    assert "Delete the project" not in page, "the default project offers no deletion"
    refused = client.post(f"/admin/projects/{default.id}/delete", data={"confirm": "y"})
    assert refused.status_code == 400
    assert "project cannot be deleted" in html.unescape(refused.text)
    assert fingerprint(session) == before


def test_the_command_line_deletes_after_asking(runner, client, login, session, project):
    first, _ = work_on(client, login, session, project)[:2]
    external_id, first_id, rows = first.external_id, first.id, rows_of(session, first.id)
    command = ["delete", "--project", "study", "--document", external_id]
    declined = runner.invoke(command, input="n\n")
    assert declined.exit_code == 1
    assert f"{rows['labels']} labels by 2 reviewers, 1 settled label?" in declined.output
    assert rows_of(session, first_id) == rows
    done = runner.invoke(command, input="y\n")
    assert done.exit_code == 0, done.output
    assert f"Deleted the document {external_id!r} of 'study'" in done.output
    assert set(rows_of(session, first_id).values()) == {0}
    unknown = runner.invoke(command, input="y\n")
    assert unknown.exit_code == 1
    assert f"No document {external_id!r} in a project named 'study'" in unknown.output
    import_fixture(session, "harbour.txt")
    refused = runner.invoke(["delete", "--project", "default"])
    assert refused.exit_code == 1
    assert "project cannot be deleted" in refused.output
    whole = runner.invoke(["delete", "--project", "study", "--yes"])
    assert whole.exit_code == 0, whole.output
    assert "Deleted the project 'study': 2 documents" in whole.output
    assert session.scalar(select(Project.id).where(Project.name == "study")) is None
