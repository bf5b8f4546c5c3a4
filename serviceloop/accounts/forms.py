from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.validators import MaxValueValidator
from django.db import transaction
from django.template import loader

from serviceloop.accounts.services import password_changed, password_reset_requested
from serviceloop.core import ratelimit
from serviceloop.core.mail import OutboundEmail, email_queue


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail goes through the worker like every other mail.

    At most SERVICELOOP_RATE_PASSWORD_RESET_EMAIL requests an email are mailed; past that the page
    answers as it always does (the link "was sent"), so it tells nobody whether an account exists
    or was asked for too often, and the inbox behind the address gets no more mail.
    """

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Counted for every address asked for, known or not: the same work, the same answer.
        if ratelimit.hit("password_reset_email", self.cleaned_data["email"].strip().lower()).refused:
            return
        super().save(*args, **kwargs)

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
        with transaction.atomic():
            email_queue(OutboundEmail(to=[to_email], subject=subject, text=body))
            password_reset_requested(user=context["user"])


class AuditedPasswordChangeForm(PasswordChangeForm):
    """Django's change form; the change is recorded in the audit trail (never the password)."""

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)
            password_changed(user=user, by=user, via="change")
        return user


class AuditedSetPasswordForm(SetPasswordForm):
    """The form behind a reset link; the new password is recorded as set, by nobody signed in."""

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)
            password_changed(user=user, by=None, via="reset")
        return user


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'monitoring export'.")
    days = forms.IntegerField(
        required=False,
        min_value=1,
        label="Expires after (days)",
        help_text="Empty: the longest allowed.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        max_days = settings.SERVICELOOP_API_TOKEN_MAX_DAYS
        if max_days:
            self.fields["days"].validators.append(MaxValueValidator(max_days))
            self.fields["days"].widget.attrs["max"] = max_days
            self.fields["days"].help_text = f"Empty: {max_days} days, the longest allowed."
        else:
            self.fields["days"].help_text = "Empty: the token works until you revoke it."
