"""Test set-up shared by every app: the environment (serviceloop.core.testenv, loaded first by
pyproject's addopts) and the fixtures: real SMTP, real worker, real browser, named people."""

pytest_plugins = ["serviceloop.core.testing", "serviceloop.accounts.testing", "serviceloop.desk.testing"]
