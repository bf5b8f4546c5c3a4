"""serviceloop: an open-source service experience platform."""

from serviceloop.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
