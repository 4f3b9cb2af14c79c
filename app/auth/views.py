"""Register, sign in and sign out."""

from __future__ import annotations

from typing import TypeGuard
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth.forms import RegisterForm, SignInForm
from app.extensions import db, limiter
from app.models import User

bp = Blueprint("auth", __name__)


def is_local_path(target: str | None) -> TypeGuard[str]:
    """Whether ``target`` is a path on this site (safe to redirect to after sign-in).

    Control characters (a CR/LF header injection, a NUL) are refused before anything else.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in unquote(target)):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def signin_account_key() -> str:
    """Rate-limit key for the account being signed in to (case-insensitive)."""
    return "signin-account:" + request.form.get("login", "").strip().lower()


def failed_attempt(response: Response) -> bool:
    """Only failed sign-ins (the form shown again) count against the throttle."""
    return response.status_code != 302


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"], methods=["POST"])
def register() -> str | Response:
    """Create an account, sign it in and go to the dashboard."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        user = User(username=form.username.data.strip(), email=form.email.data.strip().lower())
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        login_user(user)
        flash(f"Welcome, {user.username}! Connect a network to get started.", "success")
        return redirect(url_for("dashboard.home"))
    return render_template("auth/register.html", form=form)


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["SIGNIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=failed_attempt,
    error_message="Too many failed sign-ins from your address. Wait a few minutes and try again.",
)
@limiter.limit(
    lambda: current_app.config["SIGNIN_LIMIT_PER_ACCOUNT"],
    key_func=signin_account_key,
    methods=["POST"],
    deduct_when=failed_attempt,
    error_message="Too many failed sign-ins for this account. Wait a few minutes and try again.",
)
def signin() -> str | Response:
    """Sign in, then go to ``next`` when it is a local path, else to the dashboard."""
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignInForm()
    if form.validate_on_submit():
        assert form.user is not None
        login_user(form.user, remember=form.remember.data)
        return redirect(next_url if is_local_path(next_url) else url_for("dashboard.home"))
    return render_template("auth/signin.html", form=form, next_url=next_url)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out (POST with the CSRF token only) and go back to the landing page."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("landing.index"))
