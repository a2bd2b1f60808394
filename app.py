"""The WSGI entry point: `flask --app app ...` and waitress load `app` from here."""
from crm import create_app

app = create_app()
