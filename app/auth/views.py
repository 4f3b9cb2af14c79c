"""Register, sign in and sign out."""

from __future__ import annotations

from typing import TypeGuard
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from app.auth import rules
from app.auth.forms import RegisterForm, SignInForm
from app.auth.throttle import Throttled
from app.extensions import db, limiter
from app.models import Invite, User

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


def failed_attempt(response: Response) -> bool:
    """Only failed sign-ins (the form shown again) count against the per-address limit."""
    return response.status_code != 302


def throttled_page(throttled: Throttled, message: str) -> tuple[str, int, dict[str, str]]:
    """The 429 page for an account that must wait, with ``Retry-After``."""
    error = TooManyRequests(f"{message} Wait {throttled.wait_text} and try again.")
    headers = {"Retry-After": str(throttled.retry_after)}
    return render_template("errors/429.html", error=error), 429, headers


def registration_gate(token: str | None) -> tuple[str, Invite | None]:
    """Whether a registration may go ahead under the ``REGISTRATION`` setting.

    :returns: ``("open", None)``, ``("first", None)`` for the first account of an invite-only
        server, ``("invited", invite)`` for a usable invite, or a refusal: ``("closed", None)``,
        ``("invite-only", None)`` without a token, ``("bad-invite", None)`` for a token that is
        unknown, used or expired.
    """
    mode = current_app.config["REGISTRATION"]
    if mode == "open":
        return "open", None
    if mode == "closed":
        return "closed", None
    if not User.any_exists():
        return "first", None
    if not token:
        return "invite-only", None
    invite = Invite.find_usable(token)
    return ("invited", invite) if invite is not None else ("bad-invite", None)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"], methods=["POST"])
def register() -> str | Response | tuple[str, int]:
    """Create an account, sign it in and go to the dashboard.

    ``REGISTRATION`` decides who may: anyone (``open``), whoever has an invite link
    (``invite``; ``/register?invite=TOKEN``) or nobody (``closed``). The page says which.
    """
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    token = (request.values.get("invite") or "")[: rules.INVITE_TOKEN_MAX + 1] or None
    gate, invite = registration_gate(token)
    if gate in {"closed", "invite-only", "bad-invite"}:
        status = 403 if request.method == "POST" else 200
        return render_template("auth/register_refused.html", gate=gate), status
    form = RegisterForm(data={"invite": token or ""})
    if form.validate_on_submit():
        user = User(username=form.username.data.strip(), email=form.email.data.strip().lower())
        user.set_password(form.password.data)
        user.is_admin = not User.admin_exists()
        db.session.add(user)
        db.session.flush()
        if invite is not None and not invite.redeem(user):
            db.session.rollback()
            return render_template("auth/register_refused.html", gate="bad-invite"), 403
        db.session.commit()
        login_user(user)
        flash(f"Welcome, {user.username}! Connect a network to get started.", "success")
        if user.is_admin:
            flash(
                "Your account is this server's administrator: you can invite people from "
                "your settings page.",
                "info",
            )
        return redirect(url_for("dashboard.home"))
    return render_template("auth/register.html", form=form, gate=gate)


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["SIGNIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=failed_attempt,
    error_message="Too many failed sign-ins from your address. Wait a few minutes and try again.",
)
def signin() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Sign in, then go to ``next`` when it is a local path, else to the dashboard.

    Password attempts are limited per account (:mod:`app.auth.throttle`) and per address.
    """
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignInForm()
    try:
        signed_in = form.validate_on_submit()
    except Throttled as throttled:
        return throttled_page(throttled, "Too many failed sign-ins for this account.")
    if signed_in:
        assert form.user is not None
        login_user(form.user, remember=form.remember.data)
        return redirect(next_url if is_local_path(next_url) else url_for("dashboard.home"))
    status = 400 if form.malformed else 200
    return render_template("auth/signin.html", form=form, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out (POST with the CSRF token only) and go back to the landing page.

    The account's session token is rotated, so this session's cookie and any remember-me
    cookie issued so far stop working even if they were copied (so do other devices' sessions).
    """
    user: User = current_user._get_current_object()
    user.rotate_session_token()
    db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("landing.index"))
