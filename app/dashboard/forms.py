"""Dashboard forms: confirmations and archive uploads."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField


class ConfirmForm(FlaskForm):
    """A button that changes something (sync now, disconnect): CSRF, and a confirm box."""

    confirm = BooleanField("Yes, delete this network's data")
    submit = SubmitField("Confirm")


class ScheduleForm(FlaskForm):
    """How often the connection syncs by itself."""

    schedule = SelectField("Scheduled syncs", choices=[])
    submit = SubmitField("Save")


class ImportForm(FlaskForm):
    """The archive file to import."""

    archive = FileField(
        "Archive file", validators=[FileRequired("Choose the archive file to upload.")]
    )
    submit = SubmitField("Upload and import")
