"""Forms of the admin pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from app.auth.forms import MaxLength

INVITE_MAX_DAYS = 90


class InviteForm(FlaskForm):
    """A new invite: how many days it is valid, and a note to remember whom it is for."""

    note = StringField(
        "Note (optional)",
        validators=[MaxLength(100)],
        description="For you: whom the invite is for. The invited person does not see it.",
    )
    days = IntegerField(
        "Valid for (days)",
        validators=[
            InputRequired("Say for how many days."),
            NumberRange(1, INVITE_MAX_DAYS, f"Between 1 and {INVITE_MAX_DAYS} days."),
        ],
    )
    submit = SubmitField("Create invite link")


class RevokeForm(FlaskForm):
    """The CSRF-protected button that withdraws an unused invite."""

    submit = SubmitField("Revoke")
