"""The user's own settings page at ``/user/<name>``; anyone else's name is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import User
from app.user.forms import DeleteForm, PasswordForm, ProfileForm, ReauthForm

bp = Blueprint("user", __name__, url_prefix="/user")


def own_account(name: str) -> User:
    """The signed-in user when ``name`` is theirs; a 404 otherwise (no hint it exists)."""
    user: User = current_user._get_current_object()
    if name != user.username:
        abort(404)
    return user


def form_status(form: ReauthForm) -> int:
    """429 when the account must wait before its password is checked again, else 400."""
    return 429 if form.throttled is not None else 400


def render_settings(
    user: User,
    profile: ProfileForm | None = None,
    password: PasswordForm | None = None,
    delete: DeleteForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Render the settings page with whichever forms were posted, fresh ones otherwise."""
    return (
        render_template(
            "user/settings.html",
            user=user,
            profile_form=profile or ProfileForm(user, obj=user, formdata=None),
            password_form=password or PasswordForm(user, formdata=None),
            delete_form=delete or DeleteForm(user, formdata=None),
        ),
        status,
    )


@bp.route("/<name>", methods=["GET", "POST"])
@login_required
def settings(name: str) -> tuple[str, int] | Response:
    """Show the settings; a POST saves display name, email (with the password) and time zone."""
    user = own_account(name)
    form = ProfileForm(user, obj=user)
    if form.validate_on_submit():
        user.display_name = (form.display_name.data or "").strip() or None
        user.email = form.email.data.strip().lower()
        user.timezone = form.timezone.data
        db.session.commit()
        flash("Profile saved.", "success")
        return redirect(url_for("user.settings", name=user.username))
    if form.is_submitted():
        return render_settings(user, profile=form, status=form_status(form))
    return render_settings(user)


@bp.route("/<name>/password", methods=["POST"])
@login_required
def change_password(name: str) -> tuple[str, int] | Response:
    """Change the password; other signed-in sessions are signed out."""
    user = own_account(name)
    form = PasswordForm(user)
    if not form.validate_on_submit():
        return render_settings(user, password=form, status=form_status(form))
    user.set_password(form.new.data)
    db.session.commit()
    login_user(user)  # keep this session, with the new session token
    flash("Password changed. Other devices have been signed out.", "success")
    return redirect(url_for("user.settings", name=user.username))


@bp.route("/<name>/delete", methods=["POST"])
@login_required
def delete_account(name: str) -> tuple[str, int] | Response:
    """Delete the account and everything it owns, then sign out."""
    user = own_account(name)
    form = DeleteForm(user)
    if not form.validate_on_submit():
        return render_settings(user, delete=form, status=form_status(form))
    logout_user()
    db.session.delete(user)
    db.session.commit()
    flash("Your account and all its data have been deleted.", "info")
    return redirect(url_for("landing.index"))
