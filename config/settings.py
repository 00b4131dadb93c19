"""Fluxo settings. Everything that differs between machines comes from the environment.

The embedded default (no variables set) is one machine: SQLite in ``var/``, Celery over kombu's
SQLAlchemy transport on ``var/broker.sqlite3``, an in-memory channel layer and an in-process rate
limiter; ``make run`` starts web, beat and two workers under ``config/supervisor.py``.
Set ``DATABASE_URL`` and ``REDIS_URL`` for the production topology (PostgreSQL + Redis).
See README.md ("Configuration") for the full table.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FLUXO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The fallback key is only for the embedded default; production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "fluxo-embedded-insecure-key-change-me")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

# Fernet key (urlsafe base64, 32 bytes) for secrets at rest. The embedded default derives one
# from SECRET_KEY so a fresh machine works; production sets its own and keeps it apart.
FLUXO_ENCRYPTION_KEY = os.environ.get("FLUXO_ENCRYPTION_KEY", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "polymorphic",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "core",
    "flows",
    "messaging",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "flows.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Connections come from a bounded pool in every process (web, workers, beat): adding processes
# cannot exhaust PostgreSQL's max_connections, and no request or task opens a connection of its
# own. Budget per process: FLUXO_DB_POOL_SIZE (README, "Connection budget"). Celery keeps its
# connection between tasks (CELERY_DB_REUSE_MAX below) instead of closing it around each one.
FLUXO_DB_POOL_SIZE = int(os.environ.get("FLUXO_DB_POOL_SIZE", "8"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    # Parameters bound by the server (and repeated statements prepared by psycopg): cheaper for both
    # sides than quoting them into the SQL text. Behind PgBouncer < 1.21 in transaction mode set it off.
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("FLUXO_DB_SERVER_SIDE_BINDING", True):
        DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and FLUXO_DB_POOL_SIZE > 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": FLUXO_DB_POOL_SIZE, "timeout": 20,
            "max_idle": 300, "max_lifetime": 3600,
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "fluxo.sqlite3",
            "OPTIONS": {
                # IMMEDIATE transactions take the write lock up front, so the web process and
                # the worker queue behind each other instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, Channels ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # kombu's SQLAlchemy transport on a SQLite file of its own (config/broker.py says why and what
    # it changes): a real broker with no server, so the embedded default runs the very same Celery
    # task code (and timers) as production, shared safely by web, beat and several workers.
    # A message taken by a worker that is then SIGKILLed is not given again (kombu keeps unacked
    # messages in the worker's memory); the sweepers (stale events, deliveries, messages) recover it.
    FLUXO_BROKER_FILE = VAR_DIR / "broker.sqlite3"
    CELERY_BROKER_URL = f"sqlite:///{FLUXO_BROKER_FILE}"
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    # Passed to sqlalchemy.create_engine: wait up to 30 s for another process's write lock instead
    # of failing at once with "database is locked".
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Queues, each with its own workers in production (README, "Production topology"):
#   inbound  — webhook deliveries, a contact's events, timers (the flows run here; database only)
#   outbound — sends to the Graph API (network; never waits behind inbound work)
#   calls    — http_request / ai_reply / notify calls made outside any transaction
#   celery   — periodic housekeeping
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Drains take their queue's work in batches; producers wake one drain per shard (core/kick.py).
FLUXO_INBOUND_SHARDS = int(os.environ.get("FLUXO_INBOUND_SHARDS", "4"))
# How long a shard's wake-up flag stands: a drain that died is replaced at most this late.
FLUXO_KICK_TTL = int(os.environ.get("FLUXO_KICK_TTL", "30"))
FLUXO_INBOUND_BATCH = int(os.environ.get("FLUXO_INBOUND_BATCH", "50"))
# How long one inbound drain task works before handing its shard to a new task at the back of the
# queue: with fewer worker processes than shards, every shard gets its turn (no shard starves).
FLUXO_DRAIN_SLICE_SECONDS = float(os.environ.get("FLUXO_DRAIN_SLICE_SECONDS", "1.0"))
FLUXO_OUTBOUND_SHARDS = int(os.environ.get("FLUXO_OUTBOUND_SHARDS", "4"))
FLUXO_OUTBOUND_BATCH = int(os.environ.get("FLUXO_OUTBOUND_BATCH", "50"))
FLUXO_OUTBOUND_IN_FLIGHT = int(os.environ.get("FLUXO_OUTBOUND_IN_FLIGHT", "8"))
# Backpressure: past this many pending webhook deliveries the web holds its answers a little (the
# body is stored already), up to FLUXO_BACKPRESSURE_MAX_SECONDS, so senders slow to the workers' pace.
FLUXO_BACKPRESSURE_START = int(os.environ.get("FLUXO_BACKPRESSURE_START", "100"))
FLUXO_BACKPRESSURE_MS_PER_ITEM = float(os.environ.get("FLUXO_BACKPRESSURE_MS_PER_ITEM", "2"))
FLUXO_BACKPRESSURE_MAX_SECONDS = float(os.environ.get("FLUXO_BACKPRESSURE_MAX_SECONDS", "2"))
CELERY_TASK_ROUTES = {
    "messaging.tasks.inbound_drain": {"queue": "inbound"},
    "messaging.tasks.outbound_drain": {"queue": "outbound"},
    "messaging.tasks.inbound_delivery_process": {"queue": "inbound"},
    "messaging.tasks.webhook_delivery_process": {"queue": "inbound"},
    "flows.tasks.contact_events_process": {"queue": "inbound"},
    "flows.tasks.timers_sweep": {"queue": "inbound"},
    "flows.tasks.timers_fire_due": {"queue": "inbound"},
    "messaging.tasks.message_deliver": {"queue": "outbound"},
    "flows.tasks.external_call_execute": {"queue": "calls"},
    "messaging.tasks.media_fetch_task": {"queue": "calls"},
    "messaging.tasks.message_media_prepare_task": {"queue": "calls"},
    "messaging.tasks.read_receipt_send": {"queue": "calls"},
    "messaging.tasks.read_receipts_send": {"queue": "calls"},
}
# Close the worker's database connection only every 2 x this many tasks (Celery's default closes
# it around every task: a new PostgreSQL backend per task).
CELERY_DB_REUSE_MAX = int(os.environ.get("CELERY_DB_REUSE_MAX", "1000"))
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic jobs. Each one takes a lock or claims rows with SKIP LOCKED, so running several
# schedulers by mistake does no harm.
FLUXO_TIMER_INTERVAL = float(os.environ.get("FLUXO_TIMER_INTERVAL", "1.0"))
FLUXO_TIMER_SWEEPERS = int(os.environ.get("FLUXO_TIMER_SWEEPERS", "2"))
# Timers resumed per transaction: 500 cost 15% less CPU per timer than 200 (fewer statements and
# commits); their contacts wait for the batch's commit (≈ 0.3 s) before their next event.
FLUXO_TIMER_BATCH = int(os.environ.get("FLUXO_TIMER_BATCH", "500"))
CELERY_BEAT_SCHEDULE = {
    "flows-timers-fire-due": {"task": "flows.tasks.timers_fire_due", "schedule": FLUXO_TIMER_INTERVAL},
    "flows-events-requeue-stale": {"task": "flows.tasks.events_requeue_stale", "schedule": 30.0},
    "flows-schedules-fire-due": {"task": "flows.tasks.schedules_fire_due", "schedule": 60.0},
    "flows-runs-expire-stale": {"task": "flows.tasks.runs_expire_stale", "schedule": 3600.0},
}

# --- Auth, API ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"

REST_FRAMEWORK = {
    # Token first: an unauthenticated call then gets 401 with a WWW-Authenticate header (not 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    # JSON that Fluxo can store or a 400 (deep nesting, NaN/1e999, NUL, lone surrogates: issue 9).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": None,
    # Sign-in endpoints only (core/throttling.py): per client IP and per username, counted in the cache.
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": os.environ.get("FLUXO_LOGIN_RATE_IP", "30/min"),
        "login_username": os.environ.get("FLUXO_LOGIN_RATE_USERNAME", "10/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fluxo API",
    "DESCRIPTION": "Flows, revisions, runs, channels, contacts and events of Fluxo.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its docs page are for signed-in users and token holders, like the API.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from our own static files (drf-spectacular-sidecar), so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
# Fluxo's own pt_BR catalogue (compiled by `make setup`); Django and DRF bring their own.
LOCALE_PATHS = [Path(os.environ.get("FLUXO_LOCALE_DIR", BASE_DIR / "locale"))]
# The one language run-time messages are stored in (end reasons, step errors, refused sends), so
# a worker and a web request write the same text; see core/i18n.py.
FLUXO_RUN_LANGUAGE = os.environ.get("FLUXO_RUN_LANGUAGE", "") or LANGUAGE_CODE
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on a missing root before collectstatic
# Files (received media, the media library) go through Django's storage API: the filesystem under
# FLUXO_VAR_DIR/media in the embedded default; any django-storages backend in production
# (docs/whatsapp.md, "Media"). They are never served as static files: messaging.views.media_file checks a
# signed link or a signed-in user.
MEDIA_ROOT = Path(os.environ.get("FLUXO_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-files/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the editor reads it to send X-CSRFToken
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("FLUXO_HTTPS", False):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Fluxo engine ---------------------------------------------------------------------------
FLUXO_MAX_STEPS_PER_EVENT = int(os.environ.get("FLUXO_MAX_STEPS_PER_EVENT", "250"))
FLUXO_MAX_NODE_VISITS = int(os.environ.get("FLUXO_MAX_NODE_VISITS", "50"))
# A run waiting for a reply with no timeout expires after this many days.
FLUXO_RUN_MAX_WAIT_DAYS = float(os.environ.get("FLUXO_RUN_MAX_WAIT_DAYS", "30"))
FLUXO_BUSINESS_HOURS = os.environ.get("FLUXO_BUSINESS_HOURS", "mon-fri 09:00-18:00")
FLUXO_DEFAULT_REGION = os.environ.get("FLUXO_DEFAULT_REGION", "BR")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "core.logging.MaskSecretsFilter"},
                # Periodic ticks (scheduler, housekeeping tasks) at DEBUG: an idle console stays quiet.
                "quiet_ticks": {"()": "config.logfilters.QuietTicksFilter"}},
    # The formatter masks the whole line, tracebacks included (the filter alone misses exc_text).
    "formatters": {"plain": {"()": "core.logging.MaskSecretsFormatter",
                             "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets", "quiet_ticks"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Integrations ---------------------------------------------------------------------------
# Outbound HTTP from flows (http_request node, AI providers, webhooks, notifications) goes through
# an SSRF guard. FLUXO_HTTP_ALLOWLIST: host names (erp.internal, *.corp.example) or IPs/CIDRs
# (10.0.0.0/8) that may be reached even though they are private. FLUXO_HTTP_RESOLVER: dotted path of
# a (host, port) -> [ip] function replacing DNS (tests, split-horizon networks).
FLUXO_HTTP_ALLOWLIST = env_list("FLUXO_HTTP_ALLOWLIST", "")
FLUXO_HTTP_RESOLVER = os.environ.get("FLUXO_HTTP_RESOLVER", "")
FLUXO_HTTP_TIMEOUT = float(os.environ.get("FLUXO_HTTP_TIMEOUT", "10"))
FLUXO_HTTP_RETRIES = int(os.environ.get("FLUXO_HTTP_RETRIES", "2"))
FLUXO_HTTP_BACKOFF_BASE = float(os.environ.get("FLUXO_HTTP_BACKOFF_BASE", "0.5"))
FLUXO_HTTP_MAX_RESPONSE_BYTES = int(os.environ.get("FLUXO_HTTP_MAX_RESPONSE_BYTES", str(1024 * 1024)))
FLUXO_HTTP_MAX_RESPONSE_BYTES_LIMIT = int(os.environ.get("FLUXO_HTTP_MAX_RESPONSE_BYTES_LIMIT", str(5 * 1024 * 1024)))
# Outbound webhooks: first retry after FLUXO_WEBHOOK_BACKOFF_BASE seconds, doubling, for up to
# FLUXO_WEBHOOK_MAX_AGE seconds; a subscription is disabled (with an admin alert) after
# FLUXO_WEBHOOK_DISABLE_AFTER consecutive failed attempts.
FLUXO_WEBHOOK_TIMEOUT = float(os.environ.get("FLUXO_WEBHOOK_TIMEOUT", "10"))
FLUXO_WEBHOOK_BACKOFF_BASE = float(os.environ.get("FLUXO_WEBHOOK_BACKOFF_BASE", "30"))
FLUXO_WEBHOOK_BACKOFF_CAP = float(os.environ.get("FLUXO_WEBHOOK_BACKOFF_CAP", str(4 * 3600)))
FLUXO_WEBHOOK_MAX_AGE = float(os.environ.get("FLUXO_WEBHOOK_MAX_AGE", str(24 * 3600)))
FLUXO_WEBHOOK_DISABLE_AFTER = int(os.environ.get("FLUXO_WEBHOOK_DISABLE_AFTER", "20"))
# AI: turns kept per contact and assistant, and how old a turn may be to still be given as context.
FLUXO_AI_MEMORY_MAX_TURNS = int(os.environ.get("FLUXO_AI_MEMORY_MAX_TURNS", "50"))
FLUXO_AI_MEMORY_TTL_HOURS = float(os.environ.get("FLUXO_AI_MEMORY_TTL_HOURS", "24"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Fluxo <fluxo@localhost>")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_TIMEOUT = 10
CELERY_BEAT_SCHEDULE["integrations-webhooks-deliver-due"] = {
    "task": "integrations.tasks.webhooks_deliver_due", "schedule": 5.0,
}
# Upper bound on one http_request step, retries included (it runs inside the contact's lock).
FLUXO_HTTP_MAX_TOTAL_SECONDS = float(os.environ.get("FLUXO_HTTP_MAX_TOTAL_SECONDS", "60"))
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["WebhookDeliveryStatusEnum"] = (
    "integrations.models.WebhookDelivery.Status")
FLUXO_WEBHOOK_RETENTION_DAYS = int(os.environ.get("FLUXO_WEBHOOK_RETENTION_DAYS", "30"))
CELERY_BEAT_SCHEDULE["integrations-webhooks-prune"] = {
    "task": "integrations.tasks.webhook_deliveries_prune", "schedule": 24 * 3600.0,
}

# --- WhatsApp channel -----------------------------------------------------------------------
# Opt-out/opt-in: keywords (whole message, case- and accent-insensitive) and reply-button ids or
# template quick-reply payloads. Opt-out by keyword covers the categories below; error 131050
# (user stopped marketing) covers marketing only. See docs/whatsapp.md.
WHATSAPP_OPT_OUT_KEYWORDS = env_list("WHATSAPP_OPT_OUT_KEYWORDS", "SAIR,PARAR,STOP,CANCELAR,DESCADASTRAR")
WHATSAPP_OPT_OUT_BUTTON_IDS = env_list("WHATSAPP_OPT_OUT_BUTTON_IDS", "opt_out,unsubscribe,stop promotions")
WHATSAPP_OPT_OUT_CATEGORIES = env_list("WHATSAPP_OPT_OUT_CATEGORIES", "marketing,utility")
WHATSAPP_OPT_IN_KEYWORDS = env_list("WHATSAPP_OPT_IN_KEYWORDS", "QUERO RECEBER,ACEITO")
WHATSAPP_OPT_IN_BUTTON_IDS = env_list("WHATSAPP_OPT_IN_BUTTON_IDS", "opt_in")
WHATSAPP_OPT_IN_CATEGORIES = env_list("WHATSAPP_OPT_IN_CATEGORIES", "marketing,utility")
# Throughput: per sender number (Meta's default 80/s; a channel's messages_per_second overrides)
# and per recipient (about one message per 6 s, with a small burst).
WHATSAPP_SENDER_RATE = float(os.environ.get("WHATSAPP_SENDER_RATE", "80"))
WHATSAPP_RECIPIENT_INTERVAL = float(os.environ.get("WHATSAPP_RECIPIENT_INTERVAL", "6"))
WHATSAPP_RECIPIENT_BURST = float(os.environ.get("WHATSAPP_RECIPIENT_BURST", "3"))
WHATSAPP_MAX_ATTEMPTS = int(os.environ.get("WHATSAPP_MAX_ATTEMPTS", "8"))
WHATSAPP_SENDING_LEASE = float(os.environ.get("WHATSAPP_SENDING_LEASE", "300"))
WHATSAPP_HTTP_TIMEOUT = float(os.environ.get("WHATSAPP_HTTP_TIMEOUT", "15"))
# A send whose outcome is unknown (read timeout) waits this long for Meta's status before it is
# sent again (and marked possible_duplicate).
WHATSAPP_UNCERTAIN_GRACE = float(os.environ.get("WHATSAPP_UNCERTAIN_GRACE", "120"))
# A stored webhook that keeps failing is parked (failed + channel alert) after this many attempts.
WHATSAPP_DELIVERY_MAX_ATTEMPTS = int(os.environ.get("WHATSAPP_DELIVERY_MAX_ATTEMPTS", "5"))
WHATSAPP_WEBHOOK_MAX_BYTES = int(os.environ.get("WHATSAPP_WEBHOOK_MAX_BYTES", str(3 * 1024 * 1024)))
# App-level webhook secrets (one Meta app may serve numbers not yet configured as channels).
WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "")
WHATSAPP_VERIFY_TOKEN = os.environ.get("WHATSAPP_VERIFY_TOKEN", "")
CELERY_BEAT_SCHEDULE["messaging-requeue-stale"] = {"task": "messaging.tasks.messages_requeue_stale", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["messaging-templates-sync"] = {"task": "messaging.tasks.templates_sync_all", "schedule": 3600.0}
# Campaigns: the feeder's tick (it queues a few ticks' worth of messages at the channel's
# throughput) and the date events' timers. See docs/campaigns.md.
FLUXO_CAMPAIGN_FEED_INTERVAL = float(os.environ.get("FLUXO_CAMPAIGN_FEED_INTERVAL", "2"))
FLUXO_DATE_EVENT_INTERVAL = float(os.environ.get("FLUXO_DATE_EVENT_INTERVAL", "30"))
# Unique users outside the service window per moving 24 h when the channel's tier is not known.
WHATSAPP_DEFAULT_MESSAGING_LIMIT = int(os.environ.get("WHATSAPP_DEFAULT_MESSAGING_LIMIT", "250"))
CELERY_BEAT_SCHEDULE["messaging-campaigns-feed"] = {"task": "messaging.tasks.campaigns_feed_due",
                                                    "schedule": FLUXO_CAMPAIGN_FEED_INTERVAL}
CELERY_BEAT_SCHEDULE["messaging-date-events-fire"] = {"task": "messaging.tasks.date_events_fire_due",
                                                      "schedule": FLUXO_DATE_EVENT_INTERVAL}
WHATSAPP_WEBHOOK_RETENTION_DAYS = float(os.environ.get("WHATSAPP_WEBHOOK_RETENTION_DAYS", "30"))
CELERY_BEAT_SCHEDULE["messaging-webhooks-prune"] = {"task": "messaging.tasks.webhook_deliveries_prune",
                                                    "schedule": 24 * 3600.0}

# --- Runs monitoring (issue 10) ----------------------------------------------------------------
# The dashboard's roll-up: every FLUXO_STATS_INTERVAL seconds, at most FLUXO_STATS_BATCH rows per
# stream per round (docs/architecture.md, "Monitoring").
FLUXO_STATS_INTERVAL = float(os.environ.get("FLUXO_STATS_INTERVAL", "60"))
FLUXO_STATS_BATCH = int(os.environ.get("FLUXO_STATS_BATCH", "5000"))
# Bearer token of /metrics (Prometheus); empty: /metrics refuses every caller.
FLUXO_METRICS_TOKEN = os.environ.get("FLUXO_METRICS_TOKEN", "")
FLUXO_RUN_BULK_MAX = int(os.environ.get("FLUXO_RUN_BULK_MAX", "10000"))
FLUXO_TIMER_OVERDUE_SECONDS = float(os.environ.get("FLUXO_TIMER_OVERDUE_SECONDS", "60"))
CELERY_BEAT_SCHEDULE["flows-stats-rollup"] = {"task": "flows.monitoring_tasks.stats_rollup",
                                              "schedule": FLUXO_STATS_INTERVAL}
CELERY_BEAT_SCHEDULE["flows-channels-health-sync"] = {"task": "flows.monitoring_tasks.channels_health_sync",
                                                      "schedule": 3600.0}

# --- Media (issue 14) --------------------------------------------------------------------------
# Received files are deleted after this many days (the message keeps the metadata).
FLUXO_MEDIA_RETENTION_DAYS = float(os.environ.get("FLUXO_MEDIA_RETENTION_DAYS", "90"))
# {{trigger.media.url}} links stay valid this long; absolute with FLUXO_PUBLIC_URL (https://fluxo.example.com).
FLUXO_MEDIA_LINK_SECONDS = int(os.environ.get("FLUXO_MEDIA_LINK_SECONDS", str(7 * 24 * 3600)))
FLUXO_PUBLIC_URL = os.environ.get("FLUXO_PUBLIC_URL", "")
FLUXO_MEDIA_FETCH_ATTEMPTS = int(os.environ.get("FLUXO_MEDIA_FETCH_ATTEMPTS", "5"))
FLUXO_MEDIA_DOWNLOAD_SECONDS = float(os.environ.get("FLUXO_MEDIA_DOWNLOAD_SECONDS", "120"))
# send_media with a link: Fluxo fetches the file (SSRF guard and FLUXO_HTTP_ALLOWLIST, as http_request)
# within this many seconds (connect, each read, and the whole body), trying transient errors this many times.
FLUXO_MEDIA_URL_FETCH_SECONDS = float(os.environ.get("FLUXO_MEDIA_URL_FETCH_SECONDS", "30"))
FLUXO_MEDIA_URL_FETCH_ATTEMPTS = int(os.environ.get("FLUXO_MEDIA_URL_FETCH_ATTEMPTS", "3"))
CELERY_BEAT_SCHEDULE["messaging-media-retention"] = {"task": "messaging.tasks.media_retention_prune",
                                                     "schedule": 3600.0}
