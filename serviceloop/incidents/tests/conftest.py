from serviceloop.incidents.tests.maint_fixtures import bea, monday, pia, world  # noqa: F401
