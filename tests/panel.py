"""A small hand-labelled project whose agreement figures are worked out by hand.

Eight claims in four passages of one document; reviewers ann, bob and cat; curator cora;
an outsider. R/Q/E = reported/quoted/editorial, "-" = no label:

    claim  outlet   role     ann bob cat  suggested
    c1     Reuters  excerpt   R   R   R    R
    c2     Reuters  excerpt   Q   Q   E    Q
    c3     Reuters  excerpt   E   E   -    R
    c4     Reuters  author    R   Q   R    R
    c5     Reuters  author    E   E   E    E
    c6     AP       author    Q   R   -    Q
    c7     AP       author    R   R   -    R
    c8     (none)   author    -   -   Q    Q

Disputed: c2, c4, c6. Unanimous with >= 2 labels: c1, c3, c5, c7. c8 has a single label.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Claim,
    Document,
    MemberRole,
    Outlet,
    Passage,
    Project,
    Role,
    User,
)
from annotator.services import accounts, projects
from tests.conftest import PASSWORD

R, Q, E = "reported", "quoted", "editorial"
PASSAGES = [
    ("Reuters", "excerpt", 3),
    ("Reuters", "author", 2),
    ("AP", "author", 2),
    (None, "author", 1),
]
LABELS = {
    "ann": [R, Q, E, R, E, Q, R, None],
    "bob": [R, Q, E, Q, E, R, R, None],
    "cat": [R, E, None, R, E, None, None, Q],
}
SUGGESTED = [R, Q, R, R, E, Q, R, Q]


@dataclass
class Panel:
    project_id: int
    claim_ids: list[int]
    passage_ids: list[int]

    def claim(self, number: int) -> int:
        """The id of claim ``c<number>``."""
        return self.claim_ids[number - 1]


def _outlet_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    return session.scalar(select(Outlet.id).where(Outlet.name == name))


def _passages(session: Session, project: Project) -> tuple[list[int], list[int]]:
    document = Document(
        project_id=project.id, external_id="panel-1", title="Panel", content_hash="0"
    )
    session.add(document)
    session.flush()
    claim_ids, passage_ids, number = [], [], 0
    for index, (outlet, role, count) in enumerate(PASSAGES):
        sentences = [f"Sentence {number + k + 1} of the panel." for k in range(count)]
        passage = Passage(
            project_id=project.id, document_id=document.id, index=index, text=" ".join(sentences),
            role=role, outlet_id=_outlet_id(session, outlet), claim_count=count,
        )  # fmt: skip
        session.add(passage)
        session.flush()
        passage_ids.append(passage.id)
        start = 0
        for k, sentence in enumerate(sentences):
            claim = Claim(
                passage_id=passage.id, index=k, start=start, end=start + len(sentence),
                text=sentence, suggested_label=SUGGESTED[number], suggestion_reason="panel",
            )  # fmt: skip
            session.add(claim)
            session.flush()
            claim_ids.append(claim.id)
            start += len(sentence) + 1
            number += 1
    return claim_ids, passage_ids


def build_panel(session: Session, name: str = "panel") -> Panel:
    """Create the project, its members and their labels (committed)."""
    project = projects.get_or_create_project(session, name)
    claim_ids, passage_ids = _passages(session, project)
    users: dict[str, User] = {}
    for username in ("ann", "bob", "cat"):
        users[username] = accounts.create_user(session, username, PASSWORD, Role.REVIEWER)
        projects.add_member(session, project, users[username], MemberRole.REVIEWER)
    cora = accounts.create_user(session, "cora", PASSWORD, Role.CURATOR)
    projects.add_member(session, project, cora, MemberRole.CURATOR)
    accounts.create_user(session, "outsider", PASSWORD, Role.REVIEWER)
    for username, labels in LABELS.items():
        for claim_id, label in zip(claim_ids, labels, strict=True):
            if label is not None:
                session.add(
                    Annotation(
                        claim_id=claim_id,
                        project_id=project.id,
                        user_id=users[username].id,
                        label=label,
                    )
                )
    session.commit()
    return Panel(project.id, claim_ids, passage_ids)
