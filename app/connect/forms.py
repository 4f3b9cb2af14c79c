"""The connect page's forms: a server to sign in on, a handle to read, sign-in choices."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, IntegerField, StringField, SubmitField
from wtforms.validators import NumberRange, Optional, ValidationError

from app.networks.base import Connector


class InstanceForm(FlaskForm):
    """The server to sign in on; :attr:`instance_url` holds it normalised."""

    instance = StringField("Your server")
    submit = SubmitField("Sign in")
    instance_url = ""

    def __init__(self, connector: Connector, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connector = connector
        self.instance.label.text = f"Your {connector.name} server"
        self.instance.description = (
            "The address in your handle after the second @, like mastodon.social."
        )
        self.submit.label.text = f"Sign in with {connector.name}"

    def validate_instance(self, field: Field) -> None:
        try:
            self.instance_url = self.connector.normalise_instance(
                field.data or "", current_app.config
            )
        except ValueError as error:
            raise ValidationError(str(error)) from None


class HandleForm(FlaskForm):
    """The handle to read; :attr:`actor` holds it normalised."""

    handle = StringField("Handle")
    submit = SubmitField("Read this account")
    actor = ""

    def __init__(self, connector: Connector, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connector = connector
        self.handle.label.text, self.handle.description = connector.handle_label

    def validate_handle(self, field: Field) -> None:
        try:
            self.actor = self.connector.normalise_handle(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None


def options_form(connector: Connector, **kwargs: Any) -> FlaskForm:
    """A form of the connector's sign-in choices (one checkbox each), posted to authorize."""

    class OptionsForm(FlaskForm):
        submit = SubmitField(f"Connect {connector.name}")

    for option in connector.connect_options:
        field: Field
        if option.kind == "int":
            field = IntegerField(
                option.label,
                description=option.description,
                validators=[Optional(), NumberRange(min=1, message="Enter a number above 0.")],
            )
        else:
            field = BooleanField(option.label, description=option.description)
        setattr(OptionsForm, option.name, field)
    return OptionsForm(**kwargs)


def chosen_options(connector: Connector, form: FlaskForm) -> dict[str, Any]:
    """The choices made on ``form``: ticked or not, a number or ``None``."""
    chosen: dict[str, Any] = {}
    for option in connector.connect_options:
        value = form[option.name].data
        chosen[option.name] = value if option.kind == "int" else bool(value)
    return chosen
