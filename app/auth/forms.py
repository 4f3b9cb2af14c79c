"""Forms for registration and sign-in.

Every field has an upper bound that stops validation at once (:class:`MaxLength`), so an
oversized value is refused before it reaches the database, a hash or a rate-limit key.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, StopValidation, ValidationError

from app.auth import rules, throttle
from app.models import User

WRONG_LOGIN = "Wrong username, email or password."


class MaxLength:
    """Refuse a value longer than ``max`` characters and stop the field's other validators."""

    def __init__(self, maximum: int, message: str | None = None) -> None:
        self.maximum = maximum
        self.message = message or f"This can have at most {maximum} characters."

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is not None and len(field.data) > self.maximum:
            field.errors[:] = []
            raise StopValidation(self.message)


class RegisterForm(FlaskForm):
    """A new account: username, email and a password typed twice (and an invite, if any)."""

    username = StringField(
        "Username",
        validators=[
            MaxLength(rules.USERNAME_MAX, f"Usernames are {rules.USERNAME_HELP}"),
            DataRequired("Choose a username."),
        ],
        description=rules.USERNAME_HELP,
    )
    email = EmailField(
        "Email",
        validators=[MaxLength(rules.EMAIL_MAX), DataRequired("Enter your email address.")],
    )
    password = PasswordField(
        "Password",
        validators=[
            MaxLength(
                rules.PASSWORD_MAX, f"Passwords can have at most {rules.PASSWORD_MAX} characters."
            ),
            DataRequired("Choose a password."),
        ],
        description=f"At least {rules.PASSWORD_MIN} characters, and not a common password.",
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[
            MaxLength(rules.PASSWORD_INPUT_MAX),
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords do not match."),
        ],
    )
    digest = BooleanField(
        "Mail me a weekly digest (who followed and left, my best post)",
        description="You can change this in your settings at any time.",
    )
    invite = HiddenField(validators=[MaxLength(rules.INVITE_TOKEN_MAX)])
    submit = SubmitField("Create account")

    def validate_username(self, field: StringField) -> None:
        if problem := rules.username_problem(field.data):
            raise ValidationError(problem)

    def validate_email(self, field: EmailField) -> None:
        if problem := rules.email_problem(field.data):
            raise ValidationError(problem)

    def validate_password(self, field: PasswordField) -> None:
        problem = rules.password_problem(
            field.data, username=self.username.data, email=self.email.data
        )
        if problem:
            raise ValidationError(problem)


class SignInForm(FlaskForm):
    """Sign in with username or email; on success the form carries the user.

    :meth:`validate` raises :class:`app.auth.throttle.Throttled` while the account must wait.
    """

    login = StringField(
        "Username or email",
        validators=[
            MaxLength(rules.LOGIN_MAX, rules.LOGIN_TOO_LONG),
            DataRequired("Enter your username."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            MaxLength(rules.PASSWORD_INPUT_MAX, rules.PASSWORD_INPUT_TOO_LONG),
            DataRequired("Enter your password."),
        ],
    )
    remember = BooleanField("Remember me")
    submit = SubmitField("Sign in")

    user: User | None = None
    #: Whether the fields themselves were wrong (missing, too long), not the credentials.
    malformed = False

    def validate(self, extra_validators: dict | None = None) -> bool:
        if not super().validate(extra_validators):
            self.malformed = True
            return False
        user = User.find_by_login(self.login.data)
        if not throttle.check_password(user, self.password.data, login=self.login.data):
            self.password.errors.append(WRONG_LOGIN)
            return False
        self.user = user
        return True


class ResetRequestForm(FlaskForm):
    """The address a password-reset link should go to."""

    email = EmailField(
        "Email",
        validators=[MaxLength(rules.EMAIL_MAX), DataRequired("Enter your email address.")],
    )
    submit = SubmitField("Send me a link")


class NewPasswordFields:
    """A new password typed twice, checked against the rules for ``self.user``; shared by
    the reset form and the settings page's password form."""

    user: User
    new = PasswordField(
        "New password",
        validators=[
            MaxLength(
                rules.PASSWORD_MAX, f"Passwords can have at most {rules.PASSWORD_MAX} characters."
            ),
            DataRequired("Choose a new password."),
        ],
        description=f"At least {rules.PASSWORD_MIN} characters, and not a common password.",
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[
            MaxLength(rules.PASSWORD_INPUT_MAX),
            DataRequired("Type the new password again."),
            EqualTo("new", "The two passwords do not match."),
        ],
    )

    def validate_new(self, field: PasswordField) -> None:
        problem = rules.password_problem(
            field.data, username=self.user.username, email=self.user.email
        )
        if problem:
            raise ValidationError(problem)


class ResetForm(NewPasswordFields, FlaskForm):
    """A new password, typed twice, for the account a reset link was for."""

    submit = SubmitField("Set the new password")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
