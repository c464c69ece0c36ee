"""One settings file, read from the environment.

With no environment at all it runs the embedded mode: SQLite, Celery tasks in-process, the simulated gateway,
clicks stored synchronously. Every variable is documented in `.env.example`.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from linktrack import queues

BASE_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET_KEY = "insecure-dev-only-secret-key-change-me"
PLACEHOLDER_HASHIDS_SALT = "insecure-dev-only-salt-change-me"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=PLACEHOLDER_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin, signed in to only through the app's own sign-in page (linktrack.apps.AdminConfig)
    "linktrack.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "campaigns",
    "delivery",
    "linktrack.apps.LinktrackConfig",
    "insights",
]

MIDDLEWARE = [
    "linktrack.redirect.host_routing.ShortDomainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves collected static files (the admin's CSS and scripts) from gunicorn, compressed and with long cache headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # With STAFF_REQUIRE_TWO_STEP, support staff without two-step sign-in reach only its setup page.
    "campaigns.accounts.two_step_views.StaffTwoStepMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "linktrack.urls"
WSGI_APPLICATION = "linktrack.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short batch statements: PostgreSQL's JIT compiles a plan it guesses is large (stale statistics on a fresh
    # campaign's rows) for far longer than the statement then runs.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode's web server and its beat process write to one file: readers do not block the writer (WAL),
    # a transaction takes the write lock when it starts rather than failing half-way, and a writer waits its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
# Reports (the Insights pages and their CSVs, Compare, the reporting API, the campaign list's figures) read a
# PostgreSQL streaming replica of the primary when this is set; writes and the sending path never go there
# (linktrack/common/reports_database.py). The test suite reads it as the primary (a mirror).
REPORTS_DATABASE_URL = env.str("REPORTS_DATABASE_URL", default="")
if REPORTS_DATABASE_URL:
    DATABASES["reports"] = env.db_url_config(REPORTS_DATABASE_URL)
    if DATABASES["reports"]["ENGINE"] == "django.db.backends.postgresql":
        # A replica that does not answer costs a report page 3 seconds, then the page reads the primary.
        DATABASES["reports"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
        DATABASES["reports"]["OPTIONS"].setdefault("options", "-c jit=off")
    DATABASES["reports"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["linktrack.common.reports_database.ReportsRouter"]
# A report page says how old its figures are when the replica is further behind than this.
REPORTS_LAG_NOTICE_SECONDS = env.float("REPORTS_LAG_NOTICE_SECONDS", default=5.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "campaigns.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "campaigns:list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Security headers and cookies ----------------------------------------------------------------------------------
# Public URL of the app, for absolute links in emails (unsubscribe, password reset, invitations); https in production.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
_SERVED_OVER_TLS = PUBLIC_BASE_URL.lower().startswith("https://")
# Cookies only over https with DEBUG off.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Behind a proxy that ends TLS: trust its X-Forwarded-Proto, so secure cookies and absolute URLs say https.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off by default: SMS show short links without a scheme, and phones open them over http first; forcing https
# there costs every click an extra round trip. HSTS (with a preload entry for the short domain) avoids it.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# HSTS (sent on https answers only): a year, this host and its subdomains, by default when DEBUG is off and
# PUBLIC_BASE_URL is https. Preloading is the domain owner's decision (SECURE_HSTS_PRELOAD and hstspreload.org).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if _SERVED_OVER_TLS and not DEBUG else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=bool(SECURE_HSTS_SECONDS))
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    # SECURE_SSL_REDIRECT stays off on purpose: short links in SMS are opened over http first (see above).
    "security.W008",
    # HSTS preloading commits the whole domain for good: its owner opts in with SECURE_HSTS_PRELOAD.
    "security.W021",
]
# Content-Security-Policy (django-csp), enforced whatever DEBUG is so a page that breaks it breaks in development
# first: the pages load scripts, styles, images and fonts from this app only, and post forms to it; no inline script
# or style exists (tests/test_templates_no_inline_style.py). QR codes are drawn inline as SVG markup, which needs no
# exception; `data:` images are the admin's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Redis, Celery, cache -----------------------------------------------------------------------------------
# No REDIS_URL: the cache is local memory and clicks are stored synchronously.
REDIS_URL = env.str("REDIS_URL", default="")
# The Celery broker: RabbitMQ in production (amqp://user:password@host:5672/vhost), where a worker that dies hands
# its unfinished tasks back at once; without it, Redis (REDIS_URL), where they wait for the visibility timeout (an
# hour); with neither, tasks run in-process.
_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL

CELERY_BROKER_URL = _BROKER_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not _BROKER_URL
# In-process tasks run on background threads of the process that queued them (linktrack/celery.py), so a long
# import or launch never keeps a page waiting; the tests turn this off to run each task where it is queued.
TASKS_IN_BACKGROUND_THREAD = not _BROKER_URL and env.bool("TASKS_IN_BACKGROUND_THREAD", default=True)
# One queue per kind of work (linktrack.queues), so a flood of receipts never delays a launch.
CELERY_TASK_QUEUES = queues.celery_queues()
CELERY_TASK_ROUTES = queues.celery_routes()
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT
# A task is acknowledged when it has run, not when a worker takes it: a worker that dies (even with SIGKILL, or a
# pool process killed) leaves it to another. Every task is safe to run twice. Each worker process holds one task
# at a time, so tasks wait in the broker for whichever worker is free rather than behind a busy one.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
TASKS_BACKGROUND_THREADS = env.int("TASKS_BACKGROUND_THREADS", default=2)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "clicks-flush": {"task": "linktrack.tasks.clicks_flush_task", "schedule": 5.0},
    # The flush adds change rows to the click counters; this merges them (linktrack.counts.counters).
    "click-counters-merge": {"task": "linktrack.tasks.click_counters_merge_task", "schedule": 60.0},
    # Every night: the counters against a count of the stored clicks; differences are logged as warnings.
    "click-counters-verify": {
        "task": "linktrack.tasks.click_counters_verify_task",
        "schedule": crontab(hour=3, minute=15),
    },
}

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Short links ---------------------------------------------------------------------------------------------
SHORT_LINK_BASE_URL = env.str("SHORT_LINK_BASE_URL", default="http://127.0.0.1:8000/s/")
# Messages show the short link without "https://" (22 characters for s.cplry.com/7383936D89) unless this is on.
SHORT_LINK_SHOW_SCHEME = env.bool("SHORT_LINK_SHOW_SCHEME", default=False)
HASHIDS_SALT = env.str("HASHIDS_SALT", default=PLACEHOLDER_HASHIDS_SALT)
SHORT_CODE_ALPHABET = env.str("SHORT_CODE_ALPHABET", default="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
SHORT_CODE_MIN_LENGTH = env.int("SHORT_CODE_MIN_LENGTH", default=10)
# Redis stream the redirect appends clicks to; empty means "store each click synchronously".
CLICK_STREAM_URL = env.str("CLICK_STREAM_URL", default=REDIS_URL)
CLICK_STREAM_KEY = env.str("CLICK_STREAM_KEY", default="linktrack:clicks")
CLICK_FLUSH_BATCH = env.int("CLICK_FLUSH_BATCH", default=1000)
# Flushers read the stream as one consumer group (linktrack/redirect/click_flush.py); entries a flusher read and had
# not stored after this long (it died) are claimed by another.
CLICK_FLUSH_CLAIM_SECONDS = env.float("CLICK_FLUSH_CLAIM_SECONDS", default=60.0)
# How long a link stays in the link cache; links of prepared messages are put there as they are prepared, so this
# is also how long after sending a link resolves with the database down.
SHORT_LINK_CACHE_SECONDS = env.int("SHORT_LINK_CACHE_SECONDS", default=3600)
# After a command to the click stream's or the link cache's Redis failed, each web process goes without that Redis
# this long (clicks stored directly, links read from the database) instead of waiting for its timeout on every click.
CLICK_STREAM_RETRY_SECONDS = env.float("CLICK_STREAM_RETRY_SECONDS", default=5.0)

# The client's address (clicks' hashed IP, sign-in and password-reset throttling): see linktrack/common/client_ip.py.
# TRUSTED_PROXY_COUNT: how many proxies of ours stand in front of gunicorn, each appending to X-Forwarded-For;
# 0 reads REMOTE_ADDR only, so a client cannot choose its address by sending the header itself.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is the number of proxies in front of the app: 0 or more.")
# A header the proxy overwrites with the client's address instead (e.g. HTTP_X_REAL_IP); naming one trusts one proxy.
CLICK_CLIENT_IP_HEADER = env.str("CLICK_CLIENT_IP_HEADER", default="")

# Redis holding cached link destinations (default: REDIS_URL); empty uses Django's cache. When it is also the
# click stream's Redis, a click costs one round trip.
SHORT_LINK_CACHE_URL = env.str("SHORT_LINK_CACHE_URL", default=REDIS_URL)

# The click table (PostgreSQL: one partition per month, linktrack/click_partitions.py): partitions kept ready for this
# many months after this one, and, when set, whole months of clicks dropped once older than CLICK_RETENTION_MONTHS
# (at least that many months kept before the current one). The click counters, and so every report, keep their
# figures. Unset: every click is kept.
CLICK_PARTITIONS_AHEAD = env.int("CLICK_PARTITIONS_AHEAD", default=2)
_retention = env.str("CLICK_RETENTION_MONTHS", default="").strip()
if _retention and not (_retention.isdigit() and int(_retention) >= 1):
    raise ImproperlyConfigured(
        f"CLICK_RETENTION_MONTHS is a number of months, 1 or more (empty: keep every click), not {_retention!r}."
    )
CLICK_RETENTION_MONTHS = int(_retention) if _retention else None
CELERY_BEAT_SCHEDULE["click-partitions"] = {"task": "linktrack.tasks.click_partitions_task", "schedule": 3600.0}

# --- Link tracking: add link-tracking settings above this line ------------------------------------------------

# --- DLT -----------------------------------------------------------------------------------------------------
DLT_VARIABLE_MAX_LENGTH = env.int("DLT_VARIABLE_MAX_LENGTH", default=30)

# --- Dispatch and gateways -----------------------------------------------------------------------------------
DISPATCH_BATCH_SIZE = env.int("DISPATCH_BATCH_SIZE", default=1000)
SIMULATED_GATEWAY_SEED = env.int("SIMULATED_GATEWAY_SEED", default=7)
SIMULATED_RECEIPT_DELAY_SECONDS = env.float("SIMULATED_RECEIPT_DELAY_SECONDS", default=2.0)
# outcome:weight pairs; outcomes: delivered, ndnc, dlt_sender_id, dlt_template, undeliverable, expired, no_receipt
SIMULATED_GATEWAY_MIX = env.str(
    "SIMULATED_GATEWAY_MIX",
    default="delivered:85,ndnc:4,dlt_sender_id:2,dlt_template:2,undeliverable:3,expired:2,no_receipt:2",
)

# Messages per send task (0: one task per dispatch batch).
DISPATCH_SEND_TASK_SIZE = env.int("DISPATCH_SEND_TASK_SIZE", default=0)
# The supervisor (a periodic task) starts due campaigns and recurring runs, restarts dispatches whose worker
# died, re-queues lost send tasks, settles credits and pauses a campaign whose gateway errors pass the limit.
CAMPAIGN_SUPERVISE_SECONDS = env.float("CAMPAIGN_SUPERVISE_SECONDS", default=15.0)
DISPATCH_STALE_SECONDS = env.int("DISPATCH_STALE_SECONDS", default=120)
QUEUED_STALE_SECONDS = env.int("QUEUED_STALE_SECONDS", default=300)
SUBMITTING_STALE_SECONDS = env.int("SUBMITTING_STALE_SECONDS", default=300)
AUTO_PAUSE_ERROR_RATE = env.float("AUTO_PAUSE_ERROR_RATE", default=0.2)
AUTO_PAUSE_MIN_MESSAGES = env.int("AUTO_PAUSE_MIN_MESSAGES", default=50)
# Tries in a row at preparing a campaign's messages that may end with no batch done (an error, a worker that died)
# before the campaign is paused with the reason on its page, rather than restarted again and again.
DISPATCH_MAX_TRIES = env.int("DISPATCH_MAX_TRIES", default=3)
CELERY_BEAT_SCHEDULE["campaigns-supervise"] = {
    "task": "campaigns.tasks.campaigns_supervise_task",
    "schedule": CAMPAIGN_SUPERVISE_SECONDS,
}
# Emails who launched a campaign its summary once it has finished (campaigns.lifecycle.summary_email).
CELERY_BEAT_SCHEDULE["campaign-summaries-send"] = {
    "task": "campaigns.tasks.campaign_summaries_send_task",
    "schedule": 120.0,
}
# Emails an org's campaign managers once when its credits fall below the level it set (campaigns.credits.alerts).
CELERY_BEAT_SCHEDULE["credit-alerts-send"] = {
    "task": "campaigns.tasks.credit_alerts_send_task",
    "schedule": 300.0,
}
# Purchases of the last RECEIPT_WAIT_HOURS are attributed again this often: a receipt (or its absence) or a late
# click may change the campaign they count for (campaigns.customers.attribution).
TRANSACTIONS_REATTRIBUTE_SECONDS = env.float("TRANSACTIONS_REATTRIBUTE_SECONDS", default=900.0)
CELERY_BEAT_SCHEDULE["transactions-reattribute"] = {
    "task": "campaigns.customers.tasks.transactions_reattribute_task",
    "schedule": TRANSACTIONS_REATTRIBUTE_SECONDS,
}

# Uploaded customer / NDNC files wait here until the import task reads them (a volume shared by web and workers).
IMPORT_FILES_DIR = env.path("IMPORT_FILES_DIR", default=BASE_DIR / "media" / "imports")
# Task modules outside the apps' tasks.py that workers must load (campaigns keeps its tasks in its sub-packages).
CELERY_IMPORTS = [
    "campaigns.sending.tasks",
    "campaigns.sending.periodic_tasks",
    "campaigns.lifecycle.tasks",
    "campaigns.credits.tasks",
    "campaigns.customers.tasks",
    "campaigns.accounts.tasks",
]

# Campaign preview: each destination of a campaign's links is fetched (GET, redirects followed) and what it answers
# is shown before launch, as a warning that never blocks. Seconds one link may take, redirects included; the page
# waits about this long. Private, loopback, link-local (cloud metadata) and reserved addresses are not fetched unless
# LINK_CHECK_ALLOW_PRIVATE_ADDRESSES is on (default off, whatever DEBUG is: `make run` turns it on for the demo's
# links on this machine), kept apart from the webhooks' setting.
LINK_CHECK_TIMEOUT_SECONDS = env.float("LINK_CHECK_TIMEOUT_SECONDS", default=5.0)
LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = env.bool("LINK_CHECK_ALLOW_PRIVATE_ADDRESSES", default=False)
# Tests of a draft campaign's message (the preview's "Send a test") each campaign may send per hour.
PROOF_SENDS_PER_HOUR = env.int("PROOF_SENDS_PER_HOUR", default=20)

# --- Campaigns and dispatch: add campaign settings above this line ---------------------------------------------

# --- Delivery: gateways, receipts ----------------------------------------------------------------------------
# Messages with no receipt after this many hours become "not delivered: no receipt" (checked every 10 minutes).
RECEIPT_WAIT_HOURS = env.float("RECEIPT_WAIT_HOURS", default=72)
RECEIPT_EXPIRE_BATCH = env.int("RECEIPT_EXPIRE_BATCH", default=5000)
# A receipt for an id no message has yet is kept this long, waiting for the id to appear.
PENDING_RECEIPT_KEEP_HOURS = env.float("PENDING_RECEIPT_KEEP_HOURS", default=24)
# Redis that holds each gateway's send rate across workers (default REDIS_URL; empty: per process).
GATEWAY_RATE_REDIS_URL = env.str("GATEWAY_RATE_REDIS_URL", default=REDIS_URL)
# Public base URL of this service as gateways call it (https://app.example.com); used to check Twilio
# signatures behind a proxy. Empty: taken from the request.
WEBHOOK_BASE_URL = env.str("WEBHOOK_BASE_URL", default="")
# Email: SMTP in production; the embedded default writes each email to a file in EMAIL_FILE_PATH.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "outbox"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds an SMTP server may take to answer before sending fails (Django waits forever without it): a task or a
# page that sends an email never hangs on a mail server that stopped answering.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="campaigns@linktrack.localhost")
# Domain of the per-message return paths (bounces+<signed id>@<domain>); its MX points at `manage.py
# receive_bounces`, which turns delivery status notifications into "not delivered". Empty: bounces are not read.
EMAIL_BOUNCE_DOMAIN = env.str("EMAIL_BOUNCE_DOMAIN", default="")
CELERY_BEAT_SCHEDULE["receipts-expire"] = {"task": "delivery.tasks.receipts_expire_task", "schedule": 600.0}
CELERY_BEAT_SCHEDULE["pending-receipts-purge"] = {
    "task": "delivery.tasks.pending_receipts_purge_task",
    "schedule": 3600.0,
}
# Gateways (HTTP URL and callback, SMPP and SMTP hosts) at private, loopback, link-local (cloud metadata) and
# reserved addresses are refused when saved and before every connection unless this is on (delivery.gateways.addresses).
GATEWAY_ALLOW_PRIVATE_ADDRESSES = env.bool("GATEWAY_ALLOW_PRIVATE_ADDRESSES", default=False)
# Gateway exchanges (the per-message log support staff read) are kept this long, then purged hourly.
GATEWAY_LOG_KEEP_DAYS = env.int("GATEWAY_LOG_KEEP_DAYS", default=90)
CELERY_BEAT_SCHEDULE["gateway-log-purge"] = {"task": "delivery.tasks.gateway_log_purge_task", "schedule": 3600.0}
# Message counts are kept as rows of changes by database triggers; this merges them (delivery.models.MessageCounts).
CELERY_BEAT_SCHEDULE["message-counts-merge"] = {"task": "delivery.tasks.message_counts_merge_task", "schedule": 60.0}
# --- Delivery: add delivery settings above this line ---------------------------------------------------------

# --- Insights: reporting API ---------------------------------------------------------------------------------
# Calls one API key may make per minute (counted in the cache: Redis when REDIS_URL is set); more get 429.
API_RATE_PER_MINUTE = env.int("API_RATE_PER_MINUTE", default=120)
# Click webhooks: each org's new clicks are pushed to its endpoint every 30 s. Calls to private, loopback,
# link-local (cloud metadata) and reserved addresses are refused unless this is on (default off, whatever DEBUG is).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
CELERY_BEAT_SCHEDULE["click-webhooks-deliver"] = {
    "task": "insights.tasks.click_webhooks_deliver_task",
    "schedule": 30.0,
}

# --- Accounts: sign-in throttling ---------------------------------------------------------------------------
# Failed sign-ins are counted in the cache (Redis when REDIS_URL is set) over the last LOGIN_FAILURE_WINDOW_MINUTES;
# past a limit, further sign-ins are refused (429) without checking the password. A success clears the address's
# count, and so does setting a new password through the reset link.
LOGIN_FAILURE_LIMIT_PER_USER = env.int("LOGIN_FAILURE_LIMIT_PER_USER", default=5)
LOGIN_FAILURE_LIMIT_PER_IP = env.int("LOGIN_FAILURE_LIMIT_PER_IP", default=20)
LOGIN_FAILURE_WINDOW_MINUTES = env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15)
# Password-reset requests are counted the same way: past a limit for one email address, or from one client address,
# within the window, a request sends no email (the page answers as always; the refusal is logged).
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=10)
PASSWORD_RESET_WINDOW_MINUTES = env.int("PASSWORD_RESET_WINDOW_MINUTES", default=60)
# Two-step sign-in (a code from an authenticator app after the password) is each user's choice; when this is on,
# support staff (who see every org) must turn it on before they can use any page.
STAFF_REQUIRE_TWO_STEP = env.bool("STAFF_REQUIRE_TWO_STEP", default=False)

# --- Demo ----------------------------------------------------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-pass-123")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
