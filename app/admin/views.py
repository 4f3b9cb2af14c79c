"""The admin's invite page at ``/admin/invites``; for anyone else it does not exist (404)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin.forms import InviteForm, RevokeForm
from app.extensions import db
from app.models import Invite, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: How many invites the page lists (newest first).
LISTED = 50


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in and an admin; a 404 for anyone else (no hint that the page exists)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def invite_link(token: str) -> str:
    """The full link that registers with ``token``."""
    return url_for("auth.register", invite=token, _external=True)


def render_invites(
    form: InviteForm | None = None, new_link: str | None = None, status: int = 200
) -> tuple[str, int]:
    """The invite page: the create form, a link just made (shown once), the recent invites."""
    invites = db.session.scalars(select(Invite).order_by(Invite.id.desc()).limit(LISTED)).all()
    if form is None:
        form = InviteForm(formdata=None, data={"days": int(current_app.config["INVITE_DAYS"])})
    page = render_template(
        "admin/invites.html",
        form=form,
        new_link=new_link,
        invites=invites,
        registration=current_app.config["REGISTRATION"],
    )
    return page, status


@bp.route("/invites", methods=["GET"])
@admin_required
def invites() -> tuple[str, int]:
    """List the invites and offer to create one."""
    return render_invites()


@bp.route("/invites", methods=["POST"])
@admin_required
def create_invite() -> tuple[str, int]:
    """Create an invite and show its link once (only its hash is stored)."""
    form = InviteForm()
    if not form.validate_on_submit():
        return render_invites(form, status=400)
    admin: User = current_user._get_current_object()
    invite, token = Invite.create(days=form.days.data, note=form.note.data, created_by=admin)
    db.session.commit()
    current_app.logger.info("invite %s created by user %s", invite.id, admin.id)
    return render_invites(new_link=invite_link(token))


@bp.route("/invites/<int:invite_id>/revoke", methods=["POST"])
@admin_required
def revoke_invite(invite_id: int) -> Response:
    """Withdraw an unused invite (a used one stays listed with who used it)."""
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    invite = db.session.get(Invite, invite_id)
    if invite is None:
        abort(404)
    if invite.used_at is None:
        db.session.delete(invite)
        db.session.commit()
        flash("Invite revoked: its link no longer works.", "info")
    return redirect(url_for("admin.invites"))
