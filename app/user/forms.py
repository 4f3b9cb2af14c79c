"""Settings forms: profile, password change and account deletion.

Every form that asks for the current password checks it through
:func:`app.auth.throttle.check_password`, so wrong guesses there count against the account
like failed sign-ins, and wait like them.
"""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from app.auth import rules, throttle
from app.auth.forms import MaxLength, NewPasswordFields
from app.models import User

TIMEZONES = sorted(available_timezones() - {"localtime", "Factory"})


class ReauthForm(FlaskForm):
    """A form that checks the signed-in user's current password, throttled per account."""

    #: Set when the account must wait before its password is checked again.
    throttled: throttle.Throttled | None = None

    def __init__(self, user: User, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def check_current_password(self, password: str, wrong: str) -> None:
        """Raise a :class:`ValidationError` unless ``password`` is the user's own.

        :param wrong: the message for a wrong password.
        """
        try:
            right = throttle.check_password(self.user, password)
        except throttle.Throttled as throttled:
            self.throttled = throttled
            raise ValidationError(
                f"Too many wrong passwords. Wait {throttled.wait_text} and try again."
            ) from None
        if not right:
            raise ValidationError(wrong)


class ProfileForm(ReauthForm):
    """Display name, email and time zone; a new email needs the current password."""

    display_name = StringField("Display name", validators=[MaxLength(100)])
    email = EmailField(
        "Email",
        validators=[MaxLength(rules.EMAIL_MAX), DataRequired("Enter your email address.")],
    )
    timezone = SelectField("Time zone", choices=TIMEZONES, default="UTC")
    digest = BooleanField("Mail me a weekly digest (who followed and left, my best post)")
    alerts = BooleanField(
        "Mail me when something needs me (failed syncs, a reconnect, an unusual loss)"
    )
    current_password = PasswordField(
        "Current password",
        validators=[MaxLength(rules.PASSWORD_INPUT_MAX, rules.PASSWORD_INPUT_TOO_LONG)],
        description="Needed only to change your email address (we mail the new one a link "
        "to confirm it).",
    )
    submit = SubmitField("Save profile")

    def email_changes(self) -> bool:
        """Whether the posted email differs from the account's (ignoring case and spaces)."""
        return (self.email.data or "").strip().lower() != self.user.email.strip().lower()

    def validate_email(self, field: EmailField) -> None:
        if problem := rules.email_problem(field.data, exclude_id=self.user.id):
            raise ValidationError(problem)

    def validate_current_password(self, field: PasswordField) -> None:
        if not self.email_changes() or self.email.errors:
            return
        if not field.data:
            raise ValidationError("Enter your current password to change your email address.")
        self.check_current_password(field.data, "That is not your current password.")


class PasswordForm(NewPasswordFields, ReauthForm):
    """Change the password; the current one is asked for first."""

    current = PasswordField(
        "Current password",
        validators=[
            MaxLength(rules.PASSWORD_INPUT_MAX, rules.PASSWORD_INPUT_TOO_LONG),
            DataRequired("Enter your password."),
        ],
    )
    submit = SubmitField("Change password")

    def validate_current(self, field: PasswordField) -> None:
        self.check_current_password(field.data, "That is not your current password.")


class DeleteForm(ReauthForm):
    """Delete the account: type the username and the password to confirm."""

    confirm_username = StringField(
        "Type your username to confirm", validators=[MaxLength(rules.USERNAME_MAX)]
    )
    password = PasswordField(
        "Password",
        validators=[
            MaxLength(rules.PASSWORD_INPUT_MAX, rules.PASSWORD_INPUT_TOO_LONG),
            DataRequired("Enter your password."),
        ],
    )
    submit = SubmitField("Delete my account and all its data")

    def validate_confirm_username(self, field: StringField) -> None:
        if (field.data or "").strip() != self.user.username:
            raise ValidationError(f"Type {self.user.username} exactly to confirm.")

    def validate_password(self, field: PasswordField) -> None:
        self.check_current_password(field.data, "That is not your password.")


class ConfirmEmailForm(FlaskForm):
    """The button that applies a confirmed email change."""

    submit = SubmitField("Use this address")
