#!/usr/bin/env python
"""Management commands on Flask's own Click CLI.

python manage.py run                 serve the app (flask run)
python manage.py test [PYTEST ARGS]  run the test suite with coverage
python manage.py db upgrade          apply migrations (Flask-Migrate)
python manage.py create-user NAME --email E --password P
"""

from flask.cli import FlaskGroup

from app.app import create_app

cli = FlaskGroup(create_app=create_app, help=__doc__)

if __name__ == "__main__":
    cli()
