"""Forms for registration and sign-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from app.auth import rules
from app.models import User


class RegisterForm(FlaskForm):
    """A new account: username, email and a password typed twice."""

    username = StringField(
        "Username", validators=[DataRequired("Choose a username.")], description=rules.USERNAME_HELP
    )
    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField(
        "Password",
        validators=[DataRequired("Choose a password.")],
        description=f"At least {rules.PASSWORD_MIN} characters.",
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords do not match."),
        ],
    )
    submit = SubmitField("Create account")

    def validate_username(self, field: StringField) -> None:
        if problem := rules.username_problem(field.data):
            raise ValidationError(problem)

    def validate_email(self, field: EmailField) -> None:
        if problem := rules.email_problem(field.data):
            raise ValidationError(problem)

    def validate_password(self, field: PasswordField) -> None:
        if problem := rules.password_problem(field.data):
            raise ValidationError(problem)


class SignInForm(FlaskForm):
    """Sign in with username or email; on success the form carries the user."""

    login = StringField("Username or email", validators=[DataRequired("Enter your username.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Remember me")
    submit = SubmitField("Sign in")

    user: User | None = None

    def validate(self, extra_validators: dict | None = None) -> bool:
        if not super().validate(extra_validators):
            return False
        user = User.find_by_login(self.login.data)
        if user is None or not user.check_password(self.password.data):
            self.password.errors.append("Wrong username, email or password.")
            return False
        self.user = user
        return True
