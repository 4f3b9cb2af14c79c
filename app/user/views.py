"""The user's own settings page at ``/user/<name>``; anyone else's name is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import rules
from app.auth.links import confirm_token, email_change
from app.extensions import db
from app.mail import MailError, mail
from app.mail.notices import plan_digest
from app.models import User
from app.user.forms import ConfirmEmailForm, DeleteForm, PasswordForm, ProfileForm, ReauthForm

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
        user.timezone = form.timezone.data
        user.alerts = bool(form.alerts.data)
        if bool(form.digest.data) != user.digest:
            user.digest = bool(form.digest.data)
            plan_digest(user)
        db.session.commit()
        flash("Profile saved.", "success")
        if form.email_changes():
            confirm_new_email(user, form.email.data.strip().lower())
        return redirect(url_for("user.settings", name=user.username))
    if form.is_submitted():
        return render_settings(user, profile=form, status=form_status(form))
    return render_settings(user)


def confirm_new_email(user: User, new_email: str) -> None:
    """Mail a confirmation link to the new address; the change applies when it is opened."""
    link = url_for("user.confirm_email", token=confirm_token(user, new_email), _external=True)
    try:
        mail(
            new_email,
            "Confirm your new address",
            "confirm_email",
            user=user,
            new_email=new_email,
            link=link,
        )
    except MailError:
        flash("The confirmation mail could not be sent; try again later.", "warning")
        return
    flash(f"We mailed {new_email} a link: your address changes when you open it.", "info")


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
@login_required
def confirm_email(token: str) -> str | Response:
    """An email change from its confirmation link (for the signed-in account only): the link
    shows a button, and the button (a POST with its CSRF token) applies the change."""
    change = email_change(token)
    if change is None or change[0].id != current_user.id:
        flash("This confirmation link has expired or was already used.", "warning")
        return redirect(url_for("dashboard.home"))
    user, new_email = change
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        return render_template("user/confirm_email.html", form=form, new_email=new_email)
    if rules.email_problem(new_email, exclude_id=user.id):
        flash("That address is now used by another account.", "warning")
        return redirect(url_for("user.settings", name=user.username))
    user.email = new_email
    db.session.commit()
    flash(f"Your address is now {new_email}.", "success")
    return redirect(url_for("user.settings", name=user.username))


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
