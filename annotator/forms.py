"""Forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from annotator.models import MemberRole, RevealLabels, Role
from annotator.services.accounts import MIN_PASSWORD_LENGTH
from annotator.services.projects import MAX_OVERLAP, MIN_OVERLAP
from annotator.services.records import id_from_text
from annotator.text.guidelines import DEFAULT_GUIDELINES
from annotator.text.loaded_terms import DEFAULT_LOADED_TERMS

REVEAL_LABELS = {
    RevealLabels.NEVER: "never",
    RevealLabels.AFTER_COMPLETION: "after the reviewer completes the passage",
    RevealLabels.ALWAYS: "always",
}


def row_id(value: object) -> int:
    """A select field's value as a row id; anything else is the field's invalid value."""
    row = id_from_text(str(value))
    if row is None:
        raise ValueError("not a row id")
    return row


def _role_field(
    label: str, roles: type[Role] | type[MemberRole], default: str | None = None
) -> SelectField:
    """A role select that names the allowed roles when given an unknown one."""
    names = ", ".join(roles)
    return SelectField(
        label,
        choices=[SelectChoice(r.value, r.value) for r in roles],
        default=default,
        invalid_choice_message=f"Unknown role; choose one of {names}.",
    )


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in")


class ImportForm(FlaskForm):
    """Files, or a list of addresses to fetch (one per line), or both; the view checks that
    at least one is given."""

    file = MultipleFileField("Article files")
    urls = TextAreaField(
        "Addresses to fetch (one per line; a feed stands for its entries)",
        validators=[Optional(), Length(max=200_000)],
    )
    project = StringField("Project", validators=[Optional(), Length(max=120)])
    create_reviewers = BooleanField(
        "Create unknown reviewers of restored JSONL as inactive accounts"
    )
    reanalyse = BooleanField(
        "Analyse documents already imported again (after outlets were added or changed)"
    )


class LabelImportForm(FlaskForm):
    file = FileField("Labels (CSV)", validators=[FileRequired()])
    project = StringField("Project", validators=[DataRequired(), Length(max=120)])
    create_reviewers = BooleanField("Create unknown reviewers as inactive accounts")


class TokenForm(FlaskForm):
    name = StringField("Token name (what it is for)", validators=[DataRequired(), Length(max=100)])


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=200)])
    role = _role_field("Role", Role, default=Role.REVIEWER)  # least privilege unless chosen


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


SKIP_REASON_LABEL = "Why skip? (optional)"
SKIP_REASON_MAX_LENGTH = 1000


class SkipForm(FlaskForm):
    """Checks a skip. The passage page writes the reason's field itself: making this form on
    every page cost 3% of a "Save & next"'s CPU."""

    reason = StringField(
        SKIP_REASON_LABEL, validators=[Optional(), Length(max=SKIP_REASON_MAX_LENGTH)]
    )


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        f"New password (at least {MIN_PASSWORD_LENGTH} characters)",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )
    repeated = PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="It differs from the new password."),
        ],
    )


class DeleteForm(FlaskForm):
    confirm = BooleanField(
        "Yes, delete it and everything recorded on it",
        validators=[DataRequired(message="Tick the box to confirm the deletion.")],
    )


class ClaimEditForm(FlaskForm):
    claims = TextAreaField(
        "Claims, one per line",
        validators=[DataRequired(message="A passage keeps at least one claim.")],
    )
    version = HiddenField(validators=[DataRequired()])
    confirm = BooleanField("Yes, delete the labels of the changed claims")


class RoleForm(FlaskForm):
    role = _role_field("Role", Role)


class ProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    guidelines = TextAreaField(
        "Guidelines (empty: the default guidelines)",
        default=DEFAULT_GUIDELINES,
        validators=[Optional(), Length(max=50_000)],
    )
    loaded_terms = TextAreaField(
        "Loaded terms, one a line (highlighted for reviewers and counted per outlet; a * at"
        " the end also matches longer words; empty: none)",
        default=DEFAULT_LOADED_TERMS,
        validators=[Optional(), Length(max=30_000)],
    )
    overlap = IntegerField(
        "Reviewers per passage (overlap, 1 to 20)",
        default=2,
        validators=[InputRequired(), NumberRange(min=MIN_OVERLAP, max=MAX_OVERLAP)],
    )
    show_suggestions = BooleanField("Show suggested labels", default=True)
    reveal_labels = SelectField(
        "Reviewers see each other's labels",
        default=RevealLabels.AFTER_COMPLETION.value,
        choices=[SelectChoice(key.value, label) for key, label in REVEAL_LABELS.items()],
        invalid_choice_message="Unknown setting; choose never, after_completion or always.",
    )
    open_to_all = BooleanField("Open to every user (no membership needed)")


class MemberForm(FlaskForm):
    """Add a member: the view fills ``user_id`` choices with the users not yet in the project."""

    user_id = SelectField(
        "User",
        coerce=row_id,
        choices=[],
        invalid_choice_message="Choose a user who is not yet a member.",
    )
    role = _role_field("Project role", MemberRole)


class MemberRoleForm(FlaskForm):
    role = _role_field("Project role", MemberRole)


class OutletForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    homepage = StringField("Homepage domain", validators=[Optional(), Length(max=255)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class AliasForm(FlaskForm):
    alias = StringField("Alias", validators=[DataRequired(), Length(max=200)])


class MergeForm(FlaskForm):
    """The target is checked by the service, which explains a self-merge or a stale id."""

    target_id = SelectField(
        "Merge into",
        coerce=row_id,
        choices=[],
        validate_choice=False,
        invalid_value_message="Choose an outlet to merge into.",
    )
