"""The WSGI application gunicorn serves (``chatassist.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatassist.settings")

application = get_wsgi_application()
