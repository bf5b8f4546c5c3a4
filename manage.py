#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
    from serviceloop.core.data_dir import data_dir_prepare

    data_dir_prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
