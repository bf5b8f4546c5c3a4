"""serviceloop settings: one module, configured only from environment variables.

Every variable is documented in README.md's configuration table with its default. The embedded
default (no variable set) runs on SQLite and an embedded Celery broker inside the data directory.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from serviceloop.core.data_dir import data_dir, secret_key_in
from serviceloop.core.storage_settings import media_storage
from serviceloop.incidents.review_settings import minutes, review_due_days

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# Read, never created here: the commands that need it create it (core/data_dir.py), so that a
# command that only reads, run from another folder, leaves no ./var behind.
DATA_DIR = data_dir()


def _secret_key() -> str:
    # The embedded default keeps a generated key in the data directory so sessions and signed
    # survey links survive restarts; production passes SERVICELOOP_SECRET_KEY. Without either (a
    # command that prepared no data directory) the key is empty, and Django refuses to sign with it.
    return env("SERVICELOOP_SECRET_KEY") or secret_key_in(DATA_DIR)


SECRET_KEY = _secret_key()
DEBUG = env_bool("SERVICELOOP_DEBUG", False)
ALLOWED_HOSTS = env_list("SERVICELOOP_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("SERVICELOOP_CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SERVICELOOP_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    # The floors of DESIGN.md, lowest first.
    "serviceloop.core",
    "serviceloop.accounts",
    "serviceloop.catalogue",
    "serviceloop.relationships",
    "serviceloop.desk",
    "serviceloop.incidents",
    "serviceloop.feedback",
    "serviceloop.experience",
    "serviceloop.improvement",
    "serviceloop.charging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Our own, not django-csp: one fixed policy and a nonce need ~30 lines, and a view that sets its
    # own policy (the widget frame, framed by its site's origins) keeps it without a decorator.
    "serviceloop.core.middleware.ContentSecurityPolicyMiddleware",
    # Reads chunked bodies and refuses NUL characters before anything else reads the request.
    "serviceloop.core.edge.RequestEdgeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "serviceloop.core.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "serviceloop.core.middleware.TimezoneMiddleware",
    "serviceloop.core.middleware.NoStoreForSignedInMiddleware",
]

ROOT_URLCONF = "serviceloop.urls"
WSGI_APPLICATION = "serviceloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "serviceloop.core.context_processors.navigation",
                "serviceloop.core.context_processors.csp_nonce",
                "serviceloop.incidents.context_processors.outage_banner",
            ],
        },
    },
]

# SQLite (WAL) in the data directory by default; SERVICELOOP_DATABASE_URL for PostgreSQL.
_database_url = env("SERVICELOOP_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'serviceloop.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=600, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too, as production does: an in-memory shared-cache database answers "table is
    # locked" at once to a second writer instead of waiting, so races could not be tested on it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# The lockout guard first: while an account or address is locked out it refuses before any password is checked.
AUTHENTICATION_BACKENDS = [
    "serviceloop.accounts.sign_in.SignInLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("SERVICELOOP_MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"


# Attachments: a directory by default, an S3-compatible bucket with SERVICELOOP_MEDIA_STORAGE=s3.
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {
        "BACKEND": env(
            "SERVICELOOP_STATICFILES_STORAGE",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Email: SMTP everywhere; tests point it at a real SMTP server on loopback.
EMAIL_BACKEND = env("SERVICELOOP_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("SERVICELOOP_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(env("SERVICELOOP_EMAIL_PORT", "1025"))
EMAIL_HOST_USER = env("SERVICELOOP_EMAIL_USER")
EMAIL_HOST_PASSWORD = env("SERVICELOOP_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("SERVICELOOP_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(env("SERVICELOOP_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = env("SERVICELOOP_FROM_EMAIL", "serviceloop <desk@serviceloop.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis or RabbitMQ in production; an embedded SQLAlchemy/SQLite broker by default.
CELERY_BROKER_URL = env("SERVICELOOP_BROKER_URL") or f"sqla+sqlite:///{DATA_DIR / 'broker.sqlite3'}"
CELERY_TASK_ALWAYS_EAGER = env_bool("SERVICELOOP_TASKS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# At-least-once work: a task is acknowledged after it ran, re-queued when its worker is lost, and
# every task has a time limit. Tasks keep their state in our tables (the outbox), so a message the
# broker loses only waits for the sweep.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that commits must not wait long on a broker that is down: the sweep delivers later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# The options of a remote broker (Redis); the fault tests point the app at one with the same options.
SERVICELOOP_REMOTE_BROKER_OPTIONS: dict[str, object] = {
    # Redis re-delivers an unacknowledged message after this long (longer than any task's limit).
    "visibility_timeout": 3600,
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
    # A producer (a web request after commit) tries the broker once, briefly, then leaves it to the sweep.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if not CELERY_BROKER_URL.startswith("sqla+"):
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(SERVICELOOP_REMOTE_BROKER_OPTIONS)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Core: deliver events and mail that are due (broker down, a worker killed, a retry); housekeeping.
CELERY_BEAT_SCHEDULE["core-outbox-sweep"] = {"task": "serviceloop.core.tasks.outbox_sweep", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["core-housekeeping"] = {"task": "serviceloop.core.tasks.housekeeping", "schedule": 3600.0}
# Retry windows of the outbox; what an API caller's Idempotency-Key is remembered for.
SERVICELOOP_MAIL_RETRY_HOURS = float(env("SERVICELOOP_MAIL_RETRY_HOURS", "72"))
SERVICELOOP_EVENT_RETRY_HOURS = float(env("SERVICELOOP_EVENT_RETRY_HOURS", "72"))
SERVICELOOP_IDEMPOTENCY_HOURS = float(env("SERVICELOOP_IDEMPOTENCY_HOURS", "24"))
# Desk: record SLA warnings and breaches (at the instant they happened) every minute.
CELERY_BEAT_SCHEDULE["desk-sla-check"] = {"task": "serviceloop.desk.tasks.sla_check", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["desk-close-resolved"] = {
    "task": "serviceloop.desk.tasks.close_resolved_tickets",
    "schedule": 3600.0,
}
# Desk: remove stored files that no attachment row refers to (a rolled-back transaction, a deleted ticket).
CELERY_BEAT_SCHEDULE["desk-attachment-orphans"] = {
    "task": "serviceloop.desk.tasks.delete_orphaned_attachments",
    "schedule": 24 * 60 * 60.0,
}
# Desk: forget the per-address acknowledgement counts of past hours (SERVICELOOP_MAIL_ACK_PER_HOUR).
CELERY_BEAT_SCHEDULE["desk-acknowledgement-counts"] = {
    "task": "serviceloop.desk.tasks.prune_acknowledgement_counts",
    "schedule": 24 * 60 * 60.0,
}
# Feedback: the periodic relationship (NPS) survey, once a day; the throttle keeps it to 1 in 90 days a person.
CELERY_BEAT_SCHEDULE["feedback-relationship-surveys"] = {
    "task": "serviceloop.feedback.tasks.send_relationship_surveys",
    "schedule": 24 * 60 * 60.0,
}
# Incidents: maintenance notices, and the automatic start and end of maintenance windows, every minute.
CELERY_BEAT_SCHEDULE["incidents-maintenance-tick"] = {
    "task": "serviceloop.incidents.tasks.maintenance_tick",
    "schedule": 60.0,
}
# Minutes before a maintenance window its notice goes out (Statuspage's scheduled_remind_prior), and
# the longest window that may be scheduled, in hours.
SERVICELOOP_MAINTENANCE_NOTICE_MINUTES = int(env("SERVICELOOP_MAINTENANCE_NOTICE_MINUTES", "60"))
SERVICELOOP_MAINTENANCE_MAX_HOURS = float(env("SERVICELOOP_MAINTENANCE_MAX_HOURS", "168"))

# Incidents: the default update cadence per audience and how long before it falls due the owner is
# reminded; the clocks are checked every minute.
SERVICELOOP_INCIDENT_CADENCE_MINUTES = int(env("SERVICELOOP_INCIDENT_CADENCE_MINUTES", "30"))
SERVICELOOP_INCIDENT_REMIND_MINUTES = int(env("SERVICELOOP_INCIDENT_REMIND_MINUTES", "5"))
CELERY_BEAT_SCHEDULE["incidents-cadence-check"] = {
    "task": "serviceloop.incidents.tasks.cadence_check",
    "schedule": 60.0,
}


# Incidents: post-incident reviews are due this many calendar days after resolution, by severity
# ("sev1=3,sev2=5"; a severity left out takes 10 days), and the measures' tolerances (docs/incident-reviews.md).
SERVICELOOP_REVIEW_DUE_DAYS = review_due_days(
    "SERVICELOOP_REVIEW_DUE_DAYS", env("SERVICELOOP_REVIEW_DUE_DAYS") or "sev1=3,sev2=5"
)
SERVICELOOP_INCIDENT_CADENCE_GRACE_MINUTES = minutes(
    "SERVICELOOP_INCIDENT_CADENCE_GRACE_MINUTES", env("SERVICELOOP_INCIDENT_CADENCE_GRACE_MINUTES") or "5"
)
SERVICELOOP_ETA_TOLERANCE_MINUTES = minutes(
    "SERVICELOOP_ETA_TOLERANCE_MINUTES", env("SERVICELOOP_ETA_TOLERANCE_MINUTES") or "15"
)
# Incidents: remind review owners (due within a day, overdue) and action owners (overdue), once a day each.
CELERY_BEAT_SCHEDULE["incidents-review-reminders"] = {
    "task": "serviceloop.incidents.tasks.review_reminders",
    "schedule": 3600.0,
}

# Security: production sets SERVICELOOP_SECURE=true behind TLS; `manage.py check --deploy` is clean then.
SECURE = env_bool("SERVICELOOP_SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# API tokens: the longest a token may live, in days (also what a token without a chosen expiry
# gets); 0: tokens may be made without an expiry.
SERVICELOOP_API_TOKEN_MAX_DAYS = int(env("SERVICELOOP_API_TOKEN_MAX_DAYS", "365"))
SESSION_COOKIE_HTTPONLY = True

DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Rate limits and lockouts (core.ratelimit, docs/operations-rate-limits.md): "<count>/<period>" with
# a period of s, m, h or d ("5/15m"), or "off". Counted in the database, shared by every process.
# Lockouts: failures that lock an account, an address, for one whole period from the one that reached the count.
SERVICELOOP_RATE_SIGN_IN_ACCOUNT = env("SERVICELOOP_RATE_SIGN_IN_ACCOUNT", "5/15m")
SERVICELOOP_RATE_SIGN_IN_ACCOUNT_ALL = env("SERVICELOOP_RATE_SIGN_IN_ACCOUNT_ALL", "50/1h")
SERVICELOOP_RATE_SIGN_IN_IP = env("SERVICELOOP_RATE_SIGN_IN_IP", "30/15m")
SERVICELOOP_RATE_API_TOKEN_FAILURES_IP = env("SERVICELOOP_RATE_API_TOKEN_FAILURES_IP", "30/5m")
# Requests: per email, address, token, site or page.
SERVICELOOP_RATE_PASSWORD_RESET_EMAIL = env("SERVICELOOP_RATE_PASSWORD_RESET_EMAIL", "3/1h")
SERVICELOOP_RATE_PASSWORD_RESET_IP = env("SERVICELOOP_RATE_PASSWORD_RESET_IP", "20/1h")
SERVICELOOP_RATE_INGEST_TOKEN = env("SERVICELOOP_RATE_INGEST_TOKEN", "600/1m")
SERVICELOOP_RATE_POST_WEBHOOK_IP = env("SERVICELOOP_RATE_POST_WEBHOOK_IP", "600/1m")
SERVICELOOP_RATE_MAIL_WEBHOOK_IP = env("SERVICELOOP_RATE_MAIL_WEBHOOK_IP", "300/1m")
SERVICELOOP_RATE_WIDGET_IP = env("SERVICELOOP_RATE_WIDGET_IP", "20/10m")
SERVICELOOP_RATE_WIDGET_SITE = env("SERVICELOOP_RATE_WIDGET_SITE", "1000/1h")
SERVICELOOP_RATE_QR_IP = env("SERVICELOOP_RATE_QR_IP", "10/10m")
SERVICELOOP_RATE_QR_PAGE = env("SERVICELOOP_RATE_QR_PAGE", "500/1h")
SERVICELOOP_RATE_SURVEY_LINK = env("SERVICELOOP_RATE_SURVEY_LINK", "20/10m")
SERVICELOOP_RATE_SURVEY_LINK_IP = env("SERVICELOOP_RATE_SURVEY_LINK_IP", "600/10m")
# Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; empty: REMOTE_ADDR only.
SERVICELOOP_TRUSTED_PROXIES = env_list("SERVICELOOP_TRUSTED_PROXIES")

# Experience metrics: below this many valid answers a figure shows "not enough data" (DOMAIN §2).
SERVICELOOP_MIN_SAMPLE = int(env("SERVICELOOP_MIN_SAMPLE", "30"))
# Experience: service review PDFs the worker never got (broker down) or lost (worker killed) go back to it.
CELERY_BEAT_SCHEDULE["experience-review-sweep"] = {
    "task": "serviceloop.experience.tasks.sweep_reviews",
    "schedule": 60.0,
}
# The home page's portfolio: the score shown for every service (any metric name of experience/metrics.py).
SERVICELOOP_PRIMARY_METRIC = env("SERVICELOOP_PRIMARY_METRIC", "happiness")
SERVICELOOP_PAGE_SIZE = 50
# XLAs (docs/experience.md, "XLAs"): SLA compliance at or above this per cent reads as "SLA met" beside an
# XLA (a breached XLA beside it is a watermelon); every active XLA is evaluated this often (minutes).
SERVICELOOP_XLA_SLA_GREEN = float(env("SERVICELOOP_XLA_SLA_GREEN", "95"))
SERVICELOOP_XLA_EVALUATE_MINUTES = float(env("SERVICELOOP_XLA_EVALUATE_MINUTES", "15"))
CELERY_BEAT_SCHEDULE["experience-xla-evaluate"] = {
    "task": "serviceloop.experience.tasks.evaluate_xlas",
    "schedule": SERVICELOOP_XLA_EVALUATE_MINUTES * 60.0,
}
# Experience alerts (docs/experience.md, "Alerts"): each live service's primary metrics, the recent window
# (days, today included) against the baseline before it; Benjamini–Hochberg at this false-discovery rate
# across one run's tests; an open drop alert recovers when its one-sided p-value exceeds RECOVER_P.
SERVICELOOP_ALERT_METRICS = env_list("SERVICELOOP_ALERT_METRICS", "happiness,nps,csat,ces,fcr")
SERVICELOOP_ALERT_RECENT_DAYS = int(env("SERVICELOOP_ALERT_RECENT_DAYS", "7"))
SERVICELOOP_ALERT_BASELINE_DAYS = int(env("SERVICELOOP_ALERT_BASELINE_DAYS", "90"))
SERVICELOOP_ALERT_FDR = float(env("SERVICELOOP_ALERT_FDR", "0.05"))
SERVICELOOP_ALERT_RECOVER_P = float(env("SERVICELOOP_ALERT_RECOVER_P", "0.2"))
CELERY_BEAT_SCHEDULE["experience-alert-drops"] = {
    "task": "serviceloop.experience.tasks.detect_drops",
    "schedule": 3600.0,
}
# Trust per relationship (docs/trust.md): bands (below RED: red; below WATCH: watch; else good),
# shown only with at least MIN_CONFIDENCE; a fall of FALL_POINTS within FALL_DAYS alerts the
# service manager. The daily refresh lets every state decay to today; weeks are judged each Monday.
SERVICELOOP_TRUST_RED = float(env("SERVICELOOP_TRUST_RED", "50"))
SERVICELOOP_TRUST_WATCH = float(env("SERVICELOOP_TRUST_WATCH", "70"))
SERVICELOOP_TRUST_MIN_CONFIDENCE = float(env("SERVICELOOP_TRUST_MIN_CONFIDENCE", "0.2"))
SERVICELOOP_TRUST_FALL_POINTS = float(env("SERVICELOOP_TRUST_FALL_POINTS", "10"))
SERVICELOOP_TRUST_FALL_DAYS = int(env("SERVICELOOP_TRUST_FALL_DAYS", "30"))
# Weekly points kept for the trend chart (the weeks before as_of).
SERVICELOOP_TRUST_POINT_WEEKS = int(env("SERVICELOOP_TRUST_POINT_WEEKS", "104"))
CELERY_BEAT_SCHEDULE["experience-trust-weeks"] = {
    "task": "serviceloop.experience.tasks.trust_weeks",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["experience-trust-refresh"] = {
    "task": "serviceloop.experience.tasks.trust_refresh",
    "schedule": 3600.0,
}


# Lost time in money: the provider's default cost of an hour of a customer's work time (an
# organisation may have its own, accounts.Organisation.hourly_cost) and the currency of every amount.
def _amount(name: str, default: str) -> Decimal:
    """An amount of money ("60", "72.50") of zero or more; anything else stops the start plainly."""
    text = env(name, default).strip() or default
    try:
        amount = Decimal(text)
    except ArithmeticError:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise ImproperlyConfigured(f"{name} is an amount of zero or more, e.g. 60 or 72.50, not {text!r}.")
    return amount


SERVICELOOP_HOURLY_COST = _amount("SERVICELOOP_HOURLY_COST", "60")
SERVICELOOP_CURRENCY = env("SERVICELOOP_CURRENCY", "EUR").strip().upper() or "EUR"

# Desk: attachments (size and content types), the customer's reopen window, the "breaching soon" queue.
SERVICELOOP_ATTACHMENT_MAX_BYTES = int(env("SERVICELOOP_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
SERVICELOOP_ATTACHMENT_TYPES = env_list(
    "SERVICELOOP_ATTACHMENT_TYPES",
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,application/zip,"
    "application/json,message/rfc822,application/msword,application/vnd.ms-excel,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
SERVICELOOP_REOPEN_DAYS = int(env("SERVICELOOP_REOPEN_DAYS", "14"))
SERVICELOOP_SLA_BREACHING_SOON_HOURS = int(env("SERVICELOOP_SLA_BREACHING_SOON_HOURS", "4"))
# Feedback: how long signed survey links work; whether free text is masked for personal data.
SERVICELOOP_SURVEY_LINK_DAYS = int(env("SERVICELOOP_SURVEY_LINK_DAYS", "14"))
SERVICELOOP_MASK_PERSONAL_DATA = env_bool("SERVICELOOP_MASK_PERSONAL_DATA", False)
# Feedback integrity (docs/feedback.md, docs/feedback-channels.md): a click on a score button counts
# after this many seconds unless another button of the invitation is fetched meanwhile (a link
# scanner); the public QR page takes one answer per client and page within this many seconds.
SERVICELOOP_SURVEY_SCANNER_SECONDS = float(env("SERVICELOOP_SURVEY_SCANNER_SECONDS", "10"))
SERVICELOOP_QR_REPEAT_SECONDS = float(env("SERVICELOOP_QR_REPEAT_SECONDS", "600"))
# Count the provisional clicks whose scanner window has passed; forget the integrity marks past use.
CELERY_BEAT_SCHEDULE["feedback-link-clicks"] = {
    "task": "serviceloop.feedback.tasks.count_link_clicks",
    "schedule": 10.0,
}
CELERY_BEAT_SCHEDULE["feedback-housekeeping"] = {
    "task": "serviceloop.feedback.tasks.housekeeping",
    "schedule": 3600.0,
}
# Feedback channels: the shared secret that signs post webhooks of sources without a secret of their own.
SERVICELOOP_POST_WEBHOOK_SECRET = env("SERVICELOOP_POST_WEBHOOK_SECRET")

# The desk's email channel (docs/email.md): the desk address (Reply-To of notifications, the domain of
# our Message-IDs), where new mail tickets go, who may write in, and the two ways in (webhook, IMAP).
SERVICELOOP_MAIL_ADDRESS = env("SERVICELOOP_MAIL_ADDRESS") or DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].strip(" >")
SERVICELOOP_MAIL_DEFAULT_SERVICE = env("SERVICELOOP_MAIL_DEFAULT_SERVICE")
SERVICELOOP_MAIL_UNKNOWN_SENDERS = env("SERVICELOOP_MAIL_UNKNOWN_SENDERS", "create")
SERVICELOOP_MAIL_WEBHOOK_SECRET = env("SERVICELOOP_MAIL_WEBHOOK_SECRET")
SERVICELOOP_MAIL_NOTIFY = env_bool("SERVICELOOP_MAIL_NOTIFY", True)
# Inbound mail larger or more complex than this is refused (checked in one pass before it is parsed).
SERVICELOOP_MAIL_MAX_BYTES = int(env("SERVICELOOP_MAIL_MAX_BYTES", str(25 * 1024 * 1024)))
SERVICELOOP_MAIL_MAX_PARTS = int(env("SERVICELOOP_MAIL_MAX_PARTS", "500"))
SERVICELOOP_MAIL_MAX_DEPTH = int(env("SERVICELOOP_MAIL_MAX_DEPTH", "10"))
SERVICELOOP_MAIL_MAX_HEADERS = int(env("SERVICELOOP_MAIL_MAX_HEADERS", "1000"))
# A mail that claims a ticket its sender takes no part in: `hold` for review, or open a `new` ticket.
SERVICELOOP_MAIL_NONPARTICIPANT = env("SERVICELOOP_MAIL_NONPARTICIPANT", "hold")
# The receiving server whose Authentication-Results header is trusted (empty: the topmost one).
SERVICELOOP_MAIL_AUTHSERV_ID = env("SERVICELOOP_MAIL_AUTHSERV_ID")
# At most this many acknowledgements ("we have received your request") per address and clock hour.
SERVICELOOP_MAIL_ACK_PER_HOUR = int(env("SERVICELOOP_MAIL_ACK_PER_HOUR", "5"))
SERVICELOOP_IMAP_HOST = env("SERVICELOOP_IMAP_HOST")
SERVICELOOP_IMAP_PORT = int(env("SERVICELOOP_IMAP_PORT", "993"))
SERVICELOOP_IMAP_USER = env("SERVICELOOP_IMAP_USER")
SERVICELOOP_IMAP_PASSWORD = env("SERVICELOOP_IMAP_PASSWORD")
SERVICELOOP_IMAP_FOLDER = env("SERVICELOOP_IMAP_FOLDER", "INBOX")
SERVICELOOP_IMAP_CA_FILE = env("SERVICELOOP_IMAP_CA_FILE")
SERVICELOOP_IMAP_POLL_SECONDS = float(env("SERVICELOOP_IMAP_POLL_SECONDS", "60"))
SERVICELOOP_IMAP_TIMEOUT = float(env("SERVICELOOP_IMAP_TIMEOUT", "30"))
# The public status page (incidents/status*): its name, its time zone (days of the uptime bars,
# times in the Statuspage-compatible JSON) and how long browsers and proxies may keep its answers.
SERVICELOOP_STATUS_PAGE_NAME = env("SERVICELOOP_STATUS_PAGE_NAME", "serviceloop status")
SERVICELOOP_STATUS_TIME_ZONE = env("SERVICELOOP_STATUS_TIME_ZONE", "UTC")
SERVICELOOP_STATUS_MAX_AGE = int(env("SERVICELOOP_STATUS_MAX_AGE", "30"))
if SERVICELOOP_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["desk-mail-poll"] = {
        "task": "serviceloop.desk.mail_tasks.poll_mailbox",
        "schedule": SERVICELOOP_IMAP_POLL_SECONDS,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("SERVICELOOP_LOG_LEVEL", "INFO")},
    # 4xx answers are the product working (a customer refused a staff page); only 5xx are logged.
    "loggers": {"django.db.backends": {"level": "INFO"}, "django.request": {"level": "ERROR"}},
}

# API lists: bounded limit and offset (a huge value must answer 422, never overflow the database).
NINJA_PAGINATION_CLASS = "serviceloop.core.pagination.LimitOffset"

# Status page subscriptions (docs/status-subscriptions.md): sign-ups per address and per email; webhook
# deliveries (timeout, attempts, when a webhook is disabled); private receivers only when allowed.
SERVICELOOP_RATE_STATUS_SUBSCRIBE_IP = env("SERVICELOOP_RATE_STATUS_SUBSCRIBE_IP", "10/1h")
SERVICELOOP_RATE_STATUS_SUBSCRIBE_EMAIL = env("SERVICELOOP_RATE_STATUS_SUBSCRIBE_EMAIL", "3/1h")
SERVICELOOP_WEBHOOK_TIMEOUT = float(env("SERVICELOOP_WEBHOOK_TIMEOUT", "10"))
SERVICELOOP_WEBHOOK_MAX_ATTEMPTS = int(env("SERVICELOOP_WEBHOOK_MAX_ATTEMPTS", "8"))
SERVICELOOP_WEBHOOK_DISABLE_AFTER = int(env("SERVICELOOP_WEBHOOK_DISABLE_AFTER", "3"))
SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = env_bool("SERVICELOOP_WEBHOOK_ALLOW_PRIVATE", False)
CELERY_BEAT_SCHEDULE["incidents-webhook-sweep"] = {
    "task": "serviceloop.incidents.tasks.webhook_sweep",
    "schedule": 30.0,
}
