"""Settings forms: profile, password change and account deletion."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.auth import rules
from app.models import User

TIMEZONES = sorted(available_timezones() - {"localtime", "Factory"})


class ProfileForm(FlaskForm):
    """Display name, email and time zone."""

    display_name = StringField("Display name", validators=[Length(max=100)])
    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    timezone = SelectField("Time zone", choices=TIMEZONES, default="UTC")
    submit = SubmitField("Save profile")

    def __init__(self, user: User, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_email(self, field: EmailField) -> None:
        if problem := rules.email_problem(field.data, exclude_id=self.user.id):
            raise ValidationError(problem)


class PasswordForm(FlaskForm):
    """Change the password; the current one is asked for first."""

    current = PasswordField("Current password", validators=[DataRequired("Enter your password.")])
    new = PasswordField("New password", validators=[DataRequired("Choose a new password.")])
    confirm = PasswordField(
        "Repeat new password",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("new", "The two passwords do not match."),
        ],
    )
    submit = SubmitField("Change password")

    def __init__(self, user: User, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current(self, field: PasswordField) -> None:
        if not self.user.check_password(field.data):
            raise ValidationError("That is not your current password.")

    def validate_new(self, field: PasswordField) -> None:
        if problem := rules.password_problem(field.data):
            raise ValidationError(problem)


class DeleteForm(FlaskForm):
    """Delete the account: type the username and the password to confirm."""

    confirm_username = StringField("Type your username to confirm")
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    submit = SubmitField("Delete my account and all its data")

    def __init__(self, user: User, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_confirm_username(self, field: StringField) -> None:
        if (field.data or "").strip() != self.user.username:
            raise ValidationError(f"Type {self.user.username} exactly to confirm.")

    def validate_password(self, field: PasswordField) -> None:
        if not self.user.check_password(field.data):
            raise ValidationError("That is not your password.")
