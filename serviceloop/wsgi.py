import os

from django.core.wsgi import get_wsgi_application

from serviceloop.core.data_dir import data_dir_prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
data_dir_prepare()
application = get_wsgi_application()
