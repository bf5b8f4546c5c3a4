from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.template import loader

from serviceloop.core.mail import OutboundEmail, email_queue


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail goes through the worker like every other mail."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_queue(OutboundEmail(to=[to_email], subject=subject, text=body))


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'monitoring export'.")
