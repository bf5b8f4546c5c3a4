"""Loaded by pytest with `-p` (see pyproject), before pytest-django reads the settings.

A throw-away data directory, plain static storage (no collectstatic in tests), tasks run eagerly
unless a test starts a real worker, a fixed secret key.
"""

import os
import tempfile

os.environ["SERVICELOOP_DATA_DIR"] = tempfile.mkdtemp(prefix="serviceloop-test-")
os.environ["SERVICELOOP_STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
os.environ["SERVICELOOP_TASKS_EAGER"] = "true"
os.environ.setdefault("SERVICELOOP_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ["SERVICELOOP_SITE_URL"] = "http://testserver"
# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# As every command that runs the product does before reading the settings (static folder included).
from serviceloop.core.data_dir import data_dir_prepare

data_dir_prepare()
