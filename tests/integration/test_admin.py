"""The admin pages through the test client: users, projects, outlets, and who may open them."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import func, select

from annotator.models import (
    Change,
    Document,
    MemberRole,
    Outlet,
    OutletAlias,
    OutletCorrection,
    Passage,
    Project,
    ProjectMember,
    Role,
    User,
)
from annotator.services import outlets as outlet_service
from annotator.services.importing import import_files
from annotator.text.guidelines import DEFAULT_GUIDELINES
from annotator.text.loaded_terms import DEFAULT_LOADED_TERMS
from tests.conftest import PASSWORD
from tests.helpers import count, import_fixture

NEW_PASSWORD = "a brand new secret"


class OtherBrowser:
    """A second, independently logged-in client. The ``session`` fixture keeps one app context
    (and so one ``g``, where Flask-Login caches the user) open for the main client, so each
    request of this client gets an app context of its own."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()

    def get(self, url: str, **kwargs):
        with self.app.app_context():
            return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs):
        with self.app.app_context():
            return self.client.post(url, **kwargs)

    def log_in(self, username: str, password: str = PASSWORD):
        return self.post("/login", data={"username": username, "password": password})


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(response) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'class="flash[^"]*">([^<]*)<', response.text)]


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def refused(response, message: str) -> bool:
    """400 with ``message`` in a flashed message."""
    return response.status_code == 400 and any(message in m for m in flashes(response))


@pytest.fixture
def admin(make_user, login):
    user = make_user("boss", Role.ADMIN)
    login("boss")
    return user


@pytest.fixture
def rita(make_user):
    return make_user("rita")


def user_named(session, name: str) -> User:
    user = session.scalar(select(User).where(User.username == name))
    session.refresh(user)
    return user


def outlet_named(session, name: str) -> Outlet | None:
    return session.scalar(select(Outlet).where(Outlet.name == name))


# Access


ADMIN_ROUTES = [
    ("get", "/admin/users"),
    ("post", "/admin/users"),
    ("post", "/admin/users/{user}/role"),
    ("post", "/admin/users/{user}/password"),
    ("post", "/admin/users/{user}/deactivate"),
    ("post", "/admin/users/{user}/reactivate"),
    ("get", "/admin/projects"),
    ("post", "/admin/projects"),
    ("get", "/admin/projects/{project}"),
    ("post", "/admin/projects/{project}"),
    ("post", "/admin/projects/{project}/members"),
    ("post", "/admin/projects/{project}/members/{user}/role"),
    ("post", "/admin/projects/{project}/members/{user}/remove"),
    ("get", "/admin/outlets"),
    ("post", "/admin/outlets"),
    ("get", "/admin/outlets/{outlet}"),
    ("post", "/admin/outlets/{outlet}"),
    ("post", "/admin/outlets/{outlet}/aliases"),
    ("post", "/admin/outlets/{outlet}/aliases/{alias}/remove"),
    ("post", "/admin/outlets/{outlet}/merge"),
    ("get", "/admin/import"),
]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.CURATOR])
@pytest.mark.parametrize(("method", "route"), ADMIN_ROUTES)
def test_non_admins_get_403(client, make_user, login, session, role, method, route):
    user = make_user("someone", role)
    login("someone")
    project = session.scalar(select(Project).limit(1)) or _project(session)
    alias = session.scalar(select(OutletAlias).limit(1))
    url = route.format(user=user.id, project=project.id, outlet=alias.outlet_id, alias=alias.id)
    data = {
        "role": "admin",
        "password": NEW_PASSWORD,
        "name": "x",
        "overlap": "2",
        "user_id": str(user.id),
        "alias": "x",
        "target_id": str(alias.outlet_id),
    }
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 403
    assert user_named(session, "someone").role == role


def _project(session) -> Project:
    project = Project(name="any")
    session.add(project)
    session.commit()
    return project


def test_anonymous_is_sent_to_login(client):
    assert_sent_to_login(client.get("/admin/outlets"))


def test_admin_sees_nav_and_every_page(client, admin, session):
    page = client.get("/admin/users")
    assert page.status_code == 200
    for link in (
        'href="/admin/import"',
        'href="/admin/users"',
        'href="/admin/projects"',
        'href="/admin/outlets"',
    ):
        assert link in page.text
    project = _project(session)
    reuters = outlet_named(session, "Reuters")
    for url in (
        "/admin/projects",
        f"/admin/projects/{project.id}",
        "/admin/outlets",
        f"/admin/outlets/{reuters.id}",
        "/admin/import",
    ):
        assert client.get(url).status_code == 200, url


def test_reviewers_see_no_admin_links(client, rita, login):
    login("rita")
    page = client.get("/").text
    assert 'href="/admin/projects"' not in page
    assert 'href="/admin/outlets"' not in page


def test_unknown_ids_are_404(client, admin):
    assert client.get("/admin/projects/98765").status_code == 404
    assert client.get("/admin/outlets/98765").status_code == 404
    assert client.post("/admin/users/98765/deactivate").status_code == 404


@pytest.mark.csrf
def test_admin_post_without_csrf_token_changes_nothing(client, make_user, session, rita):
    make_user("boss", Role.ADMIN)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"username": "boss", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    assert client.post(f"/admin/users/{rita.id}/deactivate").status_code == 400
    assert user_named(session, "rita").active
    users_page = client.get("/admin/users").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', users_page).group(1)
    response = client.post(f"/admin/users/{rita.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 302
    assert not user_named(session, "rita").active


# Users


def test_users_are_listed_with_their_controls(client, admin, rita):
    page = client.get("/admin/users").text
    assert "rita" in page
    assert "boss (you)" in page
    assert f'action="/admin/users/{rita.id}/deactivate"' in page
    assert f'action="/admin/users/{admin.id}/deactivate"' not in page


def test_new_user_form_offers_the_least_privileged_role_first(client, admin):
    page = client.get("/admin/users").text
    new_user_form = page[page.index("Add a user") :]
    selected = re.findall(r'<option selected value="(\w+)">', new_user_form)
    assert selected == ["reviewer"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "rita", "password": "longenough", "role": "reviewer"}, "already exists"),
        ({"username": "newbie", "password": "short", "role": "reviewer"}, "between 8 and 200"),
        ({"username": "newbie", "password": "longenough", "role": "overlord"}, "Unknown role"),
        ({"username": "", "password": "longenough", "role": "reviewer"}, "Username"),
    ],
)
def test_bad_new_user_is_refused(client, admin, rita, session, data, message):
    before = count(session, User)
    response = client.post("/admin/users", data=data)
    assert refused(response, message)
    assert count(session, User) == before


def test_change_role(client, admin, rita, session):
    response = client.post(f"/admin/users/{rita.id}/role", data={"role": "curator"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "rita is now curator." in flashes(page)
    assert user_named(session, "rita").role == Role.CURATOR


def test_unknown_role_is_refused(client, admin, rita, session):
    response = client.post(f"/admin/users/{rita.id}/role", data={"role": "overlord"})
    assert refused(response, "Unknown role; choose one of admin, curator, reviewer.")
    assert user_named(session, "rita").role == Role.REVIEWER


def test_admin_cannot_demote_or_deactivate_themselves(client, admin, session):
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "reviewer"})
    assert refused(response, "You cannot remove your own admin role")
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert refused(response, "You cannot deactivate your own account")
    boss = user_named(session, "boss")
    assert (boss.role, boss.active, boss.session_epoch) == (Role.ADMIN, True, 0)
    assert client.get("/admin/users").status_code == 200


def test_admin_may_demote_another_admin(client, admin, make_user, session):
    other = make_user("chief", Role.ADMIN)
    assert (
        client.post(f"/admin/users/{other.id}/role", data={"role": "reviewer"}).status_code == 302
    )
    assert user_named(session, "chief").role == Role.REVIEWER


def test_reset_password_ends_sessions_and_new_password_works(app, client, admin, rita, session):
    rita_browser = OtherBrowser(app)
    assert rita_browser.log_in("rita").status_code == 302
    assert rita_browser.get("/").status_code == 200
    response = client.post(f"/admin/users/{rita.id}/password", data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert "ended" in flashes(client.get("/admin/users"))[0]
    kicked = rita_browser.get("/")
    assert_sent_to_login(kicked)
    assert rita_browser.log_in("rita", PASSWORD).status_code == 401
    assert rita_browser.log_in("rita", NEW_PASSWORD).status_code == 302
    assert rita_browser.get("/").status_code == 200


def test_short_reset_password_is_refused_and_keeps_sessions(app, client, admin, rita, session):
    rita_browser = OtherBrowser(app)
    rita_browser.log_in("rita")
    response = client.post(f"/admin/users/{rita.id}/password", data={"password": "short"})
    assert refused(response, "between 8 and 200 characters")
    assert user_named(session, "rita").session_epoch == 0
    assert rita_browser.get("/").status_code == 200
    assert OtherBrowser(app).log_in("rita", PASSWORD).status_code == 302


def test_deactivation_ends_sessions_and_blocks_login(app, client, admin, rita, session):
    rita_browser = OtherBrowser(app)
    rita_browser.log_in("rita")
    response = client.post(f"/admin/users/{rita.id}/deactivate")
    assert response.status_code == 302
    assert not user_named(session, "rita").active
    kicked = rita_browser.get("/")
    assert_sent_to_login(kicked)
    assert rita_browser.log_in("rita").status_code == 401
    assert client.post(f"/admin/users/{rita.id}/reactivate").status_code == 302
    assert user_named(session, "rita").active
    assert rita_browser.log_in("rita").status_code == 302
    assert rita_browser.get("/").status_code == 200


# Projects


def test_create_project_with_defaults(client, admin, session):
    form = client.get("/admin/projects").text
    assert re.search(r'<input[^>]* name="overlap"[^>]* type="number" value="2">', form)
    assert re.search(r'<input checked[^>]* name="show_suggestions"', form)
    assert re.search(r'<option selected value="after_completion">', form)
    assert "Cited outlet: the news outlet" in form  # the default guidelines, ready to edit
    assert "\nso-called\nregime\njunta\n" in form  # the default loaded terms, ready to edit
    data = {
        "name": "Study A",
        "overlap": "2",
        "reveal_labels": "after_completion",
        "show_suggestions": "y",
        "guidelines": "",
        "loaded_terms": DEFAULT_LOADED_TERMS.replace("\n", "\r\n"),
    }
    response = client.post("/admin/projects", data=data)
    project = session.scalar(select(Project).where(Project.name == "Study A"))
    assert response.headers["Location"] == f"/admin/projects/{project.id}"
    assert project.guidelines == DEFAULT_GUIDELINES
    assert project.loaded_terms == DEFAULT_LOADED_TERMS
    assert (project.overlap, project.show_suggestions, project.open_to_all) == (2, True, False)
    assert project.reveal_labels == "after_completion"


def test_project_list_shows_document_and_passage_counts(client, admin, session):
    import_fixture(session, "two.jsonl", project="Study B")
    import_fixture(session, "harbour.txt", project="Study C")
    passages = session.scalar(
        select(func.count(Passage.id)).join(Project).where(Project.name == "Study B")
    )
    page = client.get("/admin/projects").text
    row = re.search(r"Study B</a></td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>", page)
    assert row.groups() == ("2", str(passages))
    assert re.search(r"Study C</a></td>\s*<td>1</td>", page)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"overlap": "0"}, "Number must be between 1 and 20"),
        ({"overlap": "21"}, "Number must be between 1 and 20"),
        ({"overlap": "two"}, "Not a valid integer value"),
        ({"name": ""}, "Name: This field is required"),
        ({"reveal_labels": "sometimes"}, "Unknown setting"),
        ({"name": "taken"}, "A project named 'taken' already exists."),
    ],
)
def test_bad_new_project_is_refused(client, admin, session, changes, message):
    session.add(Project(name="taken"))
    session.commit()
    data = {"name": "Study D", "overlap": "2", "reveal_labels": "never", **changes}
    response = client.post("/admin/projects", data=data)
    assert refused(response, message)
    assert count(session, Project) == 1


def test_edit_project_settings_and_guidelines(client, admin, session):
    project = _project(session)
    data = {
        "name": "renamed",
        "overlap": "3",
        "reveal_labels": "always",
        "open_to_all": "y",
        "guidelines": "Tag carefully.\r\nAsk when unsure.\r\n",
    }
    response = client.post(f"/admin/projects/{project.id}", data=data)
    assert response.status_code == 302
    session.refresh(project)
    assert (project.name, project.overlap, project.reveal_labels) == ("renamed", 3, "always")
    assert (project.open_to_all, project.show_suggestions) == (True, False)
    assert project.guidelines == "Tag carefully.\nAsk when unsure.\n"
    page = client.get(f"/admin/projects/{project.id}").text
    assert "Saved the settings of renamed." in page
    assert "Ask when unsure." in page


def test_edit_loaded_terms(client, admin, session):
    project = _project(session)
    data = {"name": "any", "overlap": "2", "reveal_labels": "always"}
    terms = "# words we watch\r\nregime\r\n  so   called \r\nRegime\r\nterror*\r\n"
    response = client.post(f"/admin/projects/{project.id}", data={**data, "loaded_terms": terms})
    assert response.status_code == 302
    session.refresh(project)
    assert project.loaded_terms == "regime\nso called\nterror*\n"
    client.post(f"/admin/projects/{project.id}", data={**data, "loaded_terms": ""})
    session.refresh(project)
    assert project.loaded_terms == "", "an empty list watches nothing"


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ("regime\r\nter*ror", "Loaded terms: Line 2: * may only end a term ('ter*ror')."),
        ("--", "Loaded terms: Line 1: a term needs a letter or a digit"),
    ],
)
def test_a_bad_list_of_loaded_terms_changes_nothing(client, admin, session, terms, message):
    project = _project(session)
    data = {"name": "renamed", "overlap": "3", "reveal_labels": "always", "loaded_terms": terms}
    response = client.post(f"/admin/projects/{project.id}", data=data)
    assert refused(response, message)
    session.refresh(project)
    assert (project.name, project.overlap, project.loaded_terms) == ("any", 2, "")


def test_bad_project_edit_changes_nothing(client, admin, session):
    project = _project(session)
    data = {"name": "renamed", "overlap": "0", "reveal_labels": "always"}
    response = client.post(f"/admin/projects/{project.id}", data=data)
    assert refused(response, "between 1 and 20")
    session.refresh(project)
    assert (project.name, project.overlap, project.reveal_labels) == ("any", 2, "after_completion")


def test_members_add_change_remove(client, admin, rita, login, session):
    project = _project(session)
    start_link = f'href="/projects/{project.id}/next"'
    url = f"/admin/projects/{project.id}"
    assert f'<option value="{rita.id}">rita</option>' in client.get(url).text
    response = client.post(f"{url}/members", data={"user_id": str(rita.id), "role": "reviewer"})
    assert response.status_code == 302
    assert "Added rita as reviewer." in client.get(url).text
    member = session.scalar(select(ProjectMember))
    assert (member.user_id, member.role) == (rita.id, MemberRole.REVIEWER)
    response = client.post(f"{url}/members/{rita.id}/role", data={"role": "curator"})
    assert response.status_code == 302
    session.refresh(member)
    assert member.role == MemberRole.CURATOR
    login("rita")
    assert start_link in client.get("/").text
    login("boss")
    assert client.post(f"{url}/members/{rita.id}/remove").status_code == 302
    assert count(session, ProjectMember) == 0
    login("rita")
    assert start_link not in client.get("/").text


def test_bad_member_changes_are_refused(client, admin, rita, session):
    project = _project(session)
    url = f"/admin/projects/{project.id}/members"
    response = client.post(url, data={"user_id": str(rita.id), "role": "admin"})
    assert refused(response, "Unknown role; choose one of reviewer, curator.")
    response = client.post(url, data={"user_id": "98765", "role": "reviewer"})
    assert refused(response, "Choose a user who is not yet a member.")
    assert count(session, ProjectMember) == 0
    client.post(url, data={"user_id": str(rita.id), "role": "reviewer"})
    response = client.post(url, data={"user_id": str(rita.id), "role": "curator"})
    assert refused(response, "Choose a user who is not yet a member.")
    response = client.post(f"{url}/{rita.id}/role", data={"role": "boss"})
    assert refused(response, "Unknown role")
    response = client.post(f"{url}/{admin.id}/remove")
    assert refused(response, "That user is not a member of any.")
    assert session.scalar(select(ProjectMember.role)) == MemberRole.REVIEWER


# Outlets


def test_outlet_list_shows_aliases_homepage_notes_and_passages(client, admin, session):
    import_fixture(session, "two.jsonl")
    ap = outlet_named(session, "AP")
    ap.notes = "US wire service"
    session.commit()
    cited = session.scalar(select(func.count(Passage.id)).where(Passage.outlet_id == ap.id))
    assert cited > 0
    page = text_of(client.get("/admin/outlets"))
    row = re.search(
        r">AP</a></td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>"
        r"\s*<td>(\d+)</td>",
        page,
    )
    assert row.groups() == (
        "Associated Press, The Associated Press, ap.org",
        "apnews.com",
        "US wire service",
        str(cited),
    )


def test_create_and_edit_outlet(client, admin, session):
    data = {"name": "Daily Planet", "homepage": "https://www.DailyPlanet.example/news"}
    assert client.post("/admin/outlets", data=data).status_code == 302
    planet = outlet_named(session, "Daily Planet")
    assert (planet.homepage, planet.notes) == ("dailyplanet.example", "")
    data = {"name": "The Daily Planet", "homepage": "dailyplanet.example", "notes": "Metropolis"}
    response = client.post(f"/admin/outlets/{planet.id}", data=data)
    assert response.status_code == 302
    session.refresh(planet)
    assert (planet.name, planet.notes) == ("The Daily Planet", "Metropolis")
    assert "Saved outlet The Daily Planet." in text_of(client.get(f"/admin/outlets/{planet.id}"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Reuters"}, "'Reuters' is already the name of another outlet"),
        ({"name": "Associated Press"}, "'Associated Press' is already an alias of AP."),
        ({"name": "Planet", "homepage": "not a domain"}, "is not a domain"),
        ({"name": ""}, "Name: This field is required"),
    ],
)
def test_bad_new_outlet_is_refused(client, admin, session, data, message):
    before = count(session, Outlet)
    assert refused(client.post("/admin/outlets", data=data), message)
    assert count(session, Outlet) == before


def test_bad_outlet_edit_changes_nothing(client, admin, session):
    ap = outlet_named(session, "AP")
    response = client.post(f"/admin/outlets/{ap.id}", data={"name": "Reuters", "notes": "x"})
    assert refused(response, "already the name of another outlet")
    session.refresh(ap)
    assert (ap.name, ap.notes) == ("AP", "")


def test_renaming_to_an_own_alias_swaps_them(client, admin, session):
    ap = outlet_named(session, "AP")
    response = client.post(f"/admin/outlets/{ap.id}", data={"name": "Associated Press"})
    assert response.status_code == 302
    session.refresh(ap)
    assert ap.name == "Associated Press"
    assert sorted(a.alias for a in ap.aliases) == ["AP", "The Associated Press", "ap.org"]


def test_add_and_remove_alias(client, admin, session):
    ap = outlet_named(session, "AP")
    response = client.post(f"/admin/outlets/{ap.id}/aliases", data={"alias": "  A.P.  "})
    assert response.status_code == 302
    session.refresh(ap)
    added = next(a for a in ap.aliases if a.alias == "A.P.")
    assert "A.P." in text_of(client.get("/admin/outlets"))
    response = client.post(f"/admin/outlets/{ap.id}/aliases/{added.id}/remove")
    assert response.status_code == 302
    session.refresh(ap)
    assert "A.P." not in [a.alias for a in ap.aliases]


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("Thomson Reuters", "'Thomson Reuters' is already an alias of Reuters."),
        ("Reuters", "'Reuters' is already the name of another outlet"),
        ("Associated Press", "'Associated Press' is already an alias of this outlet."),
        ("AP", "'AP' is already this outlet's name."),
        ("", "Alias: This field is required"),
    ],
)
def test_duplicate_alias_is_refused(client, admin, session, alias, message):
    ap = outlet_named(session, "AP")
    before = count(session, OutletAlias)
    response = client.post(f"/admin/outlets/{ap.id}/aliases", data={"alias": alias})
    assert refused(response, message)
    assert count(session, OutletAlias) == before


def test_aliases_are_case_sensitive(client, admin, session):
    ap = outlet_named(session, "AP")
    response = client.post(f"/admin/outlets/{ap.id}/aliases", data={"alias": "thomson reuters"})
    assert response.status_code == 302


def test_removing_another_outlets_alias_is_refused(client, admin, session):
    ap = outlet_named(session, "AP")
    reuters_alias = session.scalar(
        select(OutletAlias).where(OutletAlias.alias == "Thomson Reuters")
    )
    response = client.post(f"/admin/outlets/{ap.id}/aliases/{reuters_alias.id}/remove")
    assert refused(response, "That alias does not belong to AP.")
    assert session.get(OutletAlias, reuters_alias.id) is not None


def test_alias_added_in_admin_feeds_later_imports(client, admin, session):
    assert client.post("/admin/outlets", data={"name": "Daily Planet"}).status_code == 302
    planet = outlet_named(session, "Daily Planet")
    response = client.post(
        f"/admin/outlets/{planet.id}/aliases", data={"alias": "The Daily Planet"}
    )
    assert response.status_code == 302
    article = {
        "id": "planet-1",
        "title": "Mayor resigns",
        "text": "A short note from us.\n\n"
        "The Daily Planet reports that the mayor resigned on Friday:\n\n"
        "The mayor handed in his resignation on Friday, officials said.",
    }
    report = import_files(session, [("planet.jsonl", json.dumps(article).encode())], "default")
    assert report.imported == ["planet-1"]
    lead_in = session.scalar(select(Passage).where(Passage.text.startswith("The Daily Planet")))
    assert lead_in.outlet_id == planet.id
    # The alias itself matched (not just the name inside it): the cue is the whole alias.
    assert lead_in.cue.startswith("The Daily Planet")
    excerpt = session.scalar(select(Passage).where(Passage.text.startswith("The mayor handed")))
    assert (excerpt.role, excerpt.outlet_id) == ("excerpt", planet.id)


def test_homepage_set_in_admin_names_the_outlet_of_links_in_later_imports(client, admin, session):
    data = {"name": "Daily Planet", "homepage": "https://www.dailyplanet.example/"}
    assert client.post("/admin/outlets", data=data).status_code == 302
    planet = outlet_named(session, "Daily Planet")
    article = (
        "Mayor resigns\n\nA short note from us.\n\n"
        "As [reported here](https://news.dailyplanet.example/mayor):\n\n"
        "> The mayor handed in his resignation on Friday, officials said.\n"
    )
    report = import_files(session, [("planet.md", article.encode())], "default")
    assert report.imported == ["planet"]
    lead_in = session.scalar(select(Passage).where(Passage.text.startswith("As [reported")))
    assert lead_in.outlet_id == planet.id
    assert lead_in.cue == "[reported here](https://news.dailyplanet.example/mayor)"
    excerpt = session.scalar(select(Passage).where(Passage.text.startswith("The mayor handed")))
    assert (excerpt.role, excerpt.outlet_id) == ("excerpt", planet.id)

    # Once the homepage is gone, the same link names no outlet.
    data = {"name": "Daily Planet", "homepage": "", "notes": ""}
    assert client.post(f"/admin/outlets/{planet.id}", data=data).status_code == 302
    session.expire_all()
    assert planet.homepage is None
    changed = article.replace("on Friday", "late on Friday")
    assert import_files(session, [("planet.md", changed.encode())], "default").changed == ["planet"]
    lead_in = session.scalar(select(Passage).where(Passage.text.startswith("As [reported")))
    assert (lead_in.outlet_id, lead_in.cue) == (None, None)


def _reviewer_corrects(client, login, session, passage: Passage, *choices: int | str) -> None:
    """Rita saves outlet corrections on ``passage``, one save per choice (id or "none"), sent
    as the page's menu sends them: as text."""
    login("rita")
    for choice in choices:
        body = {"labels": {}, "versions": {}, "outlet": str(choice)}
        response = client.post(f"/passages/{passage.id}", json=body)
        assert response.status_code == 200, response.text
    login("boss")


def test_merge_moves_passages_corrections_and_names(client, admin, rita, login, session):
    import_fixture(session, "two.jsonl", "harbour.txt")
    ap, reuters = outlet_named(session, "AP"), outlet_named(session, "Reuters")
    ap_passages = set(session.scalars(select(Passage.id).where(Passage.outlet_id == ap.id)))
    reuters_passages = set(
        session.scalars(select(Passage.id).where(Passage.outlet_id == reuters.id))
    )
    assert ap_passages
    assert reuters_passages
    other = session.scalar(select(Passage).where(Passage.outlet_id.is_(None)).limit(1))
    _reviewer_corrects(client, login, session, other, ap.id)
    ap_id = ap.id
    response = client.post(f"/admin/outlets/{ap_id}/merge", data={"target_id": str(reuters.id)})
    assert response.headers["Location"] == f"/admin/outlets/{reuters.id}"
    assert "Merged AP into Reuters" in text_of(client.get(response.headers["Location"]))
    session.expire_all()
    assert session.get(Outlet, ap_id) is None
    moved = set(session.scalars(select(Passage.id).where(Passage.outlet_id == reuters.id)))
    assert moved == ap_passages | reuters_passages
    assert session.scalar(select(OutletCorrection.outlet_id)) == reuters.id
    assert sorted(a.alias for a in reuters.aliases) == [
        "AP",
        "Associated Press",
        "The Associated Press",
        "Thomson Reuters",
        "ap.org",
        "apnews.com",
    ]


def test_merged_outlet_name_feeds_imports_and_undo_still_works(client, admin, rita, login, session):
    import_fixture(session, "two.jsonl")
    ap, reuters = outlet_named(session, "AP"), outlet_named(session, "Reuters")
    passage = session.scalar(select(Passage).where(Passage.outlet_id.is_(None)).limit(1))
    _reviewer_corrects(client, login, session, passage, ap.id, "none")
    client.post(f"/admin/outlets/{ap.id}/merge", data={"target_id": str(reuters.id)})
    outlet_changes = session.scalars(select(Change).where(Change.kind == "outlet")).all()
    assert str(ap.id) not in {c.old_value for c in outlet_changes} | {
        c.new_value for c in outlet_changes
    }
    login("rita")
    assert client.post("/undo", json={}).status_code == 200
    correction = session.scalar(select(OutletCorrection))
    session.refresh(correction)
    assert correction.outlet_id == reuters.id
    article = {"id": "ap-1", "title": "Storm nears coast (AP)", "text": "Winds rose overnight."}
    import_files(session, [("ap.jsonl", json.dumps(article).encode())], "default")
    document = session.scalar(select(Document).where(Document.external_id == "ap-1"))
    assert document.passages[0].outlet_id == reuters.id
    # The merged outlet's homepage still finds the target.
    article = {"id": "ap-2", "title": "Storm nears coast (via apnews.com)", "text": "Rain."}
    import_files(session, [("ap2.jsonl", json.dumps(article).encode())], "default")
    document = session.scalar(select(Document).where(Document.external_id == "ap-2"))
    assert document.passages[0].outlet_id == reuters.id


def test_merge_into_itself_or_unknown_outlet_changes_nothing(client, admin, session):
    import_fixture(session, "two.jsonl")
    ap = outlet_named(session, "AP")
    cited = session.scalar(select(func.count(Passage.id)).where(Passage.outlet_id == ap.id))
    response = client.post(f"/admin/outlets/{ap.id}/merge", data={"target_id": str(ap.id)})
    assert refused(response, "An outlet cannot be merged into itself")
    response = client.post(f"/admin/outlets/{ap.id}/merge", data={"target_id": "98765"})
    assert refused(response, "Unknown outlet")
    for not_an_id in ("", "x", "99999999999", "9" * 5000):
        response = client.post(f"/admin/outlets/{ap.id}/merge", data={"target_id": not_an_id})
        assert refused(response, "Choose an outlet to merge into.")
    session.expire_all()
    assert outlet_named(session, "AP") is not None
    assert session.scalar(select(func.count(Passage.id)).where(Passage.outlet_id == ap.id)) == cited


def test_merge_form_names_no_target_until_one_is_chosen(client, admin, session):
    ap = outlet_named(session, "AP")
    page = client.get(f"/admin/outlets/{ap.id}").text
    merge_form = page[page.index('id="merge-target"') - 200 :]
    select_tag = re.search(r"<select[^>]*>", merge_form).group(0)
    assert "required" in select_tag
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", merge_form)
    assert options[0][1] == "Choose an outlet…"
    assert 'value=""' in options[0][0]
    assert "selected" in options[0][0]
    assert all("selected" not in attributes for attributes, _ in options[1:])
    assert "AP</option>" not in merge_form
    assert "Reuters</option>" in merge_form


def test_merge_service_keeps_target_name_out_of_its_aliases(session):
    planet = outlet_service.create_outlet(session, "Daily Planet")
    bugle = outlet_service.create_outlet(session, "Daily Bugle")
    outlet_service.add_alias(session, bugle, "The Bugle")
    merged = outlet_service.merge_outlets(session, bugle.id, planet.id)
    assert sorted(a.alias for a in merged.aliases) == ["Daily Bugle", "The Bugle"]
    registry, ids = outlet_service.load_registry(session)
    assert registry.canonical("The Bugle") == "Daily Planet"
    assert "Daily Bugle" not in ids
