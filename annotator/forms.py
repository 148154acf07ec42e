"""Forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from annotator.models import Role


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in")


class ImportForm(FlaskForm):
    file = MultipleFileField("Article files", validators=[FileRequired()])
    project = StringField("Project", validators=[Optional(), Length(max=120)])


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=200)])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value) for r in Role])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


class SkipForm(FlaskForm):
    reason = StringField("Why skip? (optional)", validators=[Optional(), Length(max=1000)])
