"""``/settings/tokens``: the signed-in user makes, lists and revokes API tokens.

A new token is shown once, on the page that answers the form (never stored in the session
or a flash message); afterwards only its name, first characters and dates are shown.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.api import tokens
from app.models import User

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/tokens")


class TokenForm(FlaskForm):
    """The name of a new token."""

    name = StringField(
        "Token name",
        validators=[DataRequired("Give the token a name."), Length(max=tokens.NAME_MAX)],
        description="Where you will use it, e.g. “notebook on my laptop”.",
    )
    submit = SubmitField("Create read-only token")


class RevokeForm(FlaskForm):
    """A revoke button (CSRF only)."""

    submit = SubmitField("Revoke")


def me() -> User:
    """The signed-in user (a real :class:`User`, not the proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def render_page(form: TokenForm, new_token: str | None = None, status: int = 200) -> tuple:
    headers = {"Cache-Control": "no-store"} if new_token else {}
    return (
        render_template(
            "api/tokens.html",
            form=form,
            revoke_form=RevokeForm(formdata=None),
            tokens=tokens.user_tokens(me()),
            new_token=new_token,
        ),
        status,
        headers,
    )


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> tuple:
    """The user's tokens; a POST makes a new one and shows it once."""
    form = TokenForm()
    if form.validate_on_submit():
        if len(tokens.user_tokens(me())) >= tokens.MAX_TOKENS:
            flash(f"You have {tokens.MAX_TOKENS} tokens; revoke one first.", "warning")
            return render_page(form, status=400)
        _, token = tokens.create_token(me(), form.name.data or "")
        return render_page(TokenForm(formdata=None), new_token=token, status=201)
    if form.is_submitted():
        return render_page(form, status=400)
    return render_page(form)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of the user's own tokens; anyone else's is a 404."""
    row = tokens.own_token(me(), token_id)
    if row is None:
        abort(404)
    if RevokeForm().validate_on_submit():
        tokens.revoke(row)
        flash(f"Token “{row.name}” revoked.", "info")
    return redirect(url_for("api_tokens.index"))
