from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "serviceloop.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from serviceloop.accounts import sign_in

        # Django's own sign-in signals, so every way in (our page, the admin's) counts the same.
        user_login_failed.connect(sign_in.on_login_failed, dispatch_uid="serviceloop.sign_in.failed")
        user_logged_in.connect(sign_in.on_logged_in, dispatch_uid="serviceloop.sign_in.succeeded")
