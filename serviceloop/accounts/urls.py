from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from serviceloop.accounts import views
from serviceloop.accounts.forms import AuditedPasswordChangeForm, AuditedSetPasswordForm, QueuedPasswordResetForm
from serviceloop.core.ratelimit import by_ip, rate_limit

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset/",
        # Per address: 429 (it tells nothing about accounts). Per email: QueuedPasswordResetForm.
        rate_limit(("password_reset_ip", by_ip), methods=["POST"])(
            auth_views.PasswordResetView.as_view(
                template_name="accounts/password_reset.html",
                form_class=QueuedPasswordResetForm,
                email_template_name="accounts/email/password_reset.txt",
                subject_template_name="accounts/email/password_reset_subject.txt",
                success_url=reverse_lazy("accounts:password_reset_done"),
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            form_class=AuditedSetPasswordForm,
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            form_class=AuditedPasswordChangeForm,
            success_url=reverse_lazy("accounts:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/active/", views.tokens_active, name="tokens_active"),
    path("tokens/<str:public_id>/revoke/", views.token_revoke, name="token_revoke"),
]
