"""Register, sign in and sign out."""

from __future__ import annotations

import contextlib
import hashlib
from typing import TypeGuard
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import text
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from app.auth import rules, throttle
from app.auth.forms import RegisterForm, ResetForm, ResetRequestForm, SignInForm
from app.auth.links import reset_token, user_for_reset
from app.auth.throttle import Throttled
from app.extensions import db, limiter
from app.mail import MailError, mail
from app.mail.notices import plan_digest
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


#: The PostgreSQL advisory lock registrations take (an arbitrary constant of this app).
REGISTRATION_LOCK = 0x4D4452


def hold_registrations() -> None:
    """Serialise account creation until the transaction ends, so whether the new account is
    the first (and the admin) is decided on what the others committed.

    PostgreSQL takes a transaction-level advisory lock. SQLite needs none: the insert takes
    the database's write lock, which a second registration waits for before it can insert.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REGISTRATION_LOCK})


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
        user.digest = bool(form.digest.data)
        hold_registrations()
        db.session.add(user)
        db.session.flush()
        # Decided after the insert, under the lock: two first registrations at once make
        # one admin, and an invite-only server's free first place is taken once.
        user.is_admin = not User.admin_exists()
        if gate == "first" and User.any_exists(besides=user.id):
            db.session.rollback()
            return render_template("auth/register_refused.html", gate="invite-only"), 403
        plan_digest(user)  # the weekly slot comes from the new id
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


def reset_address_key() -> str:
    """Rate-limit key for reset requests to one address (hashed, so any length is cheap)."""
    address = (request.form.get("email") or "").strip().lower()
    return "reset:" + hashlib.sha256(address.encode()).hexdigest()


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=reset_address_key)
def reset_request() -> str | Response:
    """Ask for a password-reset link. The answer is the same whether or not an account uses
    the address, so the page does not tell who has an account here."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        address = form.email.data.strip().lower()
        user = User.find_by_login(address) if "@" in address else None
        if user is not None:
            link = url_for("auth.reset_password", token=reset_token(user), _external=True)
            with contextlib.suppress(MailError):  # logged; the answer stays the same
                mail(user.email, "Reset your MD Analytics password", "reset", user=user, link=link)
        flash(
            "If an account uses that address, a link to choose a new password is on its way. "
            f"It works once, for {current_app.config['RESET_MAX_AGE'] // 60} minutes.",
            "info",
        )
        return redirect(url_for("auth.signin"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_IP"], methods=["POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password from a reset link; every other session is signed out."""
    user = user_for_reset(token)
    if user is None:
        return render_template("auth/reset.html", form=None), 400
    form = ResetForm(user)
    if form.validate_on_submit():
        user.set_password(form.new.data)  # rotates the session token: other devices sign out
        db.session.commit()
        throttle.succeeded(throttle.account_key(user))
        flash("Your password is changed. Sign in with it.", "success")
        return redirect(url_for("auth.signin"))
    return render_template("auth/reset.html", form=form)


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
