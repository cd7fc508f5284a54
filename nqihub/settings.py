"""NQI Hub settings.

Every value that differs between the embedded default (one laptop, SQLite, local files,
in-process tasks) and a production deployment (PostgreSQL, workers, object storage) is read
from the environment here, and only here. See docs/deployment.md for the full list.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("NQI_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _local_secret_key() -> str:
    """The embedded default's secret key: made at random on first start and kept in the
    var directory (readable by the owner only). Several app servers need one shared key,
    given as NQI_SECRET_KEY."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: processes
        # starting together either create it or find the complete one, never a partial file.
        temporary = VAR_DIR / f".secret_key.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip()


DEBUG = env_bool("NQI_DEBUG", False)
SECRET_KEY = os.environ.get("NQI_SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("NQI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("NQI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "nqihub.core",
    "nqihub.audit",
    "nqihub.divisions",
    "nqihub.accounts",
    # After accounts, whose audited axes_reset* commands replace axes' own of the same names.
    "axes",
    "nqihub.organizations",
    "nqihub.documents",
    "nqihub.metrology",
    "nqihub.sampling",
    "nqihub.notifications",
    "nqihub.workcalendar",
    "nqihub.cases",
    "nqihub.downloads",
    "nqihub.tables",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "nqihub.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: whether a person is signed in decides Cache-Control.
    "nqihub.core.middleware.SecurityHeadersMiddleware",
    # Before the security middlewares below: they tell people why they were stopped.
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "nqihub.accounts.middleware.IdleTimeoutMiddleware",
    "nqihub.accounts.middleware.ActingMembershipMiddleware",
    "nqihub.accounts.middleware.SignInGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Must be last: it turns lockouts raised by authentication into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "nqihub.urls"
WSGI_APPLICATION = "nqihub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "nqihub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "nqihub.accounts.context_processors.acting",
                "nqihub.notifications.context_processors.unread",
            ],
        },
    },
]

# Database: SQLite file by default; DATABASE_URL=postgres://... in production and in CI.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'nqihub.sqlite3'}",
        conn_max_age=int(os.environ.get("NQI_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
        # Behind PgBouncer in transaction pooling mode, server-side cursors must be off.
        disable_server_side_cursors=env_bool("NQI_DB_DISABLE_SERVER_SIDE_CURSORS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers go on while one writer commits; IMMEDIATE takes the write lock
            # at BEGIN so two writers queue instead of failing with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # Connections are kept per thread as on PostgreSQL: reopening the file on every request
    # costs more than the query (schema re-read, cold page cache), and WAL lets them coexist.

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # The same list, seen through the decorations that pass a complexity rule (P@ssw0rd123).
    {"NAME": "nqihub.accounts.passwords.CommonPatternPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Length and character classes come from the editable security policy.
    {"NAME": "nqihub.accounts.passwords.PolicyPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions: the idle timeout itself is part of the security policy (see accounts.policy);
# the cookie lives at most as long as the longest idle timeout allowed.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = int(os.environ.get("NQI_SESSION_MAX_AGE", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("NQI_SECURE_COOKIES", env_bool("NQI_BEHIND_TLS_PROXY", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "nqihub.core.views.csrf_failure"

# Defaults of the security policy. The security administrator changes the live values in the
# UI; these seed the policy row and are the floor for what a deployment may configure.
NQI_SECURITY_DEFAULTS = {
    "password_min_length": int(os.environ.get("NQI_PASSWORD_MIN_LENGTH", "10")),
    "password_min_classes": 3,
    "password_max_age_days": 90,
    "lockout_threshold": int(os.environ.get("NQI_LOCKOUT_THRESHOLD", "5")),
    "lockout_minutes": 30,
    "idle_timeout_minutes": int(os.environ.get("NQI_IDLE_TIMEOUT_MINUTES", "30")),
    "require_second_factor_for_staff": env_bool("NQI_REQUIRE_2FA_FOR_STAFF", True),
}

# django-axes: the threshold and cool-off are read from the live security policy.
AXES_FAILURE_LIMIT = "nqihub.accounts.policy.axes_failure_limit"
AXES_COOLOFF_TIME = "nqihub.accounts.policy.axes_cooloff_time"
# Counted per account key: the account, or the account on one browser that has completed a full
# sign-in for it before (a "known device"), so anonymous traffic cannot lock a person out of
# their own browser; see nqihub/accounts/lockout.py and docs/security.md (等保 8.1.4.1).
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "nqihub.accounts.lockout.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "nqihub.accounts.views.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Lockouts are lifted by the security administrator on the security page (audited), not in
# axes' own admin pages.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# The number of trusted reverse proxies in front of the app servers; the audit trail and
# django-axes both take the client address from one function that honours it.
NQI_PROXY_COUNT = int(os.environ.get("NQI_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "nqihub.core.middleware.client_address"

# Sign-in delays and throttles (nqihub/accounts/lockout.py). Counts are django-axes' database
# rows, shared by every process and server.
# After this many failures for one account key, each further try waits, the wait doubling at
# every failure from NQI_SIGNIN_DELAY_SECONDS up to NQI_SIGNIN_DELAY_MAX_SECONDS, until the
# security policy's lockout threshold locks the key.
NQI_SIGNIN_DELAY_AFTER = int(os.environ.get("NQI_SIGNIN_DELAY_AFTER", "2"))
NQI_SIGNIN_DELAY_SECONDS = int(os.environ.get("NQI_SIGNIN_DELAY_SECONDS", "2"))
NQI_SIGNIN_DELAY_MAX_SECONDS = int(os.environ.get("NQI_SIGNIN_DELAY_MAX_SECONDS", "300"))
# Failures from one address (across all accounts) within the window beyond which the address
# waits, doubling up to NQI_SIGNIN_ADDRESS_DELAY_MAX_SECONDS. A delay, never a lock: offices sign
# in from behind one NAT address. Browsers known to the account are not held by it.
NQI_SIGNIN_ADDRESS_FREE_FAILURES = int(os.environ.get("NQI_SIGNIN_ADDRESS_FREE_FAILURES", "10"))
NQI_SIGNIN_ADDRESS_WINDOW_SECONDS = int(os.environ.get("NQI_SIGNIN_ADDRESS_WINDOW_SECONDS", "900"))
NQI_SIGNIN_ADDRESS_DELAY_MAX_SECONDS = int(os.environ.get("NQI_SIGNIN_ADDRESS_DELAY_MAX_SECONDS", "60"))
# How long a browser stays known after a full sign-in, and how many accounts one browser remembers.
NQI_KNOWN_DEVICE_DAYS = int(os.environ.get("NQI_KNOWN_DEVICE_DAYS", "90"))
NQI_KNOWN_DEVICE_ACCOUNTS = int(os.environ.get("NQI_KNOWN_DEVICE_ACCOUNTS", "5"))
# Sign-up forms sent from one client address per hour (0: no limit), counted in the shared
# counters (nqihub.core.ratelimit); generous, as a whole office may sign up from one address.
NQI_SIGNUP_RATE_PER_HOUR = int(os.environ.get("NQI_SIGNUP_RATE_PER_HOUR", "20"))

OTP_TOTP_ISSUER = os.environ.get("NQI_OTP_ISSUER", "NQI Hub")

# Audit trail: records are kept at least this long (等保 / 网络安全法: not less than six months).
NQI_AUDIT_MIN_RETENTION_DAYS = 180
NQI_AUDIT_RETENTION_DAYS = int(os.environ.get("NQI_AUDIT_RETENTION_DAYS", "180"))
if NQI_AUDIT_RETENTION_DAYS < NQI_AUDIT_MIN_RETENTION_DAYS:
    # Refuse to start (web servers run no system checks): shorter retention is unlawful.
    raise ImproperlyConfigured(
        f"NQI_AUDIT_RETENTION_DAYS={NQI_AUDIT_RETENTION_DAYS} is below the legal minimum of "
        f"{NQI_AUDIT_MIN_RETENTION_DAYS} days."
    )
# Key of the audit chain's HMAC; defaults to one derived from the secret key. Set it separately
# so rotating the secret key does not invalidate the trail.
NQI_AUDIT_KEY = os.environ.get("NQI_AUDIT_KEY", "")
# Where `audit_checkpoint` appends the chain head (time, seq, hash, keyed MAC) and where
# `verify_audit_chain` checks it: a file the database cannot rewrite (append-only, `chattr +a`,
# or on storage the database's administrators cannot write). Empty: no checkpoints.
NQI_AUDIT_CHECKPOINT_FILE = os.environ.get("NQI_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.log"))

# Internationalisation: Chinese first, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "nqi_language"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("NQI_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "nqihub" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("NQI_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("NQI_MANIFEST_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not env_bool("NQI_MANIFEST_STATIC", False)


def s3_storage(environ=os.environ) -> dict | None:
    """The S3-compatible object storage (MinIO, Ceph RGW, a cloud's) for uploaded and
    generated files, when NQI_S3_BUCKET is set; None keeps local files in NQI_MEDIA_ROOT.
    Files are private: the platform reads them and serves them through its own views, which
    check who may have them, so no public or signed URLs are handed out."""
    bucket = environ.get("NQI_S3_BUCKET", "")
    if not bucket:
        return None
    options = {
        "bucket_name": bucket,
        "endpoint_url": environ.get("NQI_S3_ENDPOINT_URL") or None,
        "access_key": environ.get("NQI_S3_ACCESS_KEY") or None,
        "secret_key": environ.get("NQI_S3_SECRET_KEY") or None,
        "region_name": environ.get("NQI_S3_REGION") or None,
        "location": environ.get("NQI_S3_PREFIX", ""),
        # Intranet servers rarely have per-bucket DNS names: path-style addresses.
        "addressing_style": environ.get("NQI_S3_ADDRESSING_STYLE", "path"),
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,  # an issued document's file is never replaced
        # A CA bundle path for an intranet CA, or off (not advised); default: system CAs.
        "verify": {"0": False, "false": False, "no": False, "off": False}.get(
            environ.get("NQI_S3_VERIFY_TLS", "").lower(), environ.get("NQI_S3_VERIFY_TLS") or None
        ),
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


if (_s3 := s3_storage()) is not None:
    STORAGES["default"] = _s3

# Background work (large imports, daily reminders, documents): Django's task framework
# (django-tasks, the backport of Django 6's django.tasks). Tasks are kept in the database and
# run by `manage.py db_worker` processes — one beside the embedded server, as many as needed
# on worker machines in production. NQI_TASK_BACKEND=immediate runs them inline instead.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if os.environ.get("NQI_TASK_BACKEND") == "immediate"
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# Daily jobs run by `manage.py run_daily` where no systemd timers run them (the embedded
# setup); production schedules each command itself (docs/deployment.md §5). Empty (the
# default): the jobs the apps register (core.registries.register_daily_job), today
# send_due_reminders, send_case_reminders, clean_stored_files, prune_rate_counters, clearsessions,
# verify_audit_chain, audit_checkpoint, recover_jobs.
NQI_DAILY_COMMANDS = env_list("NQI_DAILY_COMMANDS", [])
NQI_DAILY_AT = os.environ.get("NQI_DAILY_AT", "06:15")
NQI_IMPORT_UPLOAD_RETENTION_DAYS = int(os.environ.get("NQI_IMPORT_UPLOAD_RETENTION_DAYS", "7"))
# Days the file of a background export is kept after it is made (the job row stays).
NQI_EXPORT_RETENTION_DAYS = int(os.environ.get("NQI_EXPORT_RETENTION_DAYS", "7"))
# A background job (import, export) whose worker has written no heartbeat for this many
# seconds is retried once, then failed (``recover_jobs``, and whenever its page is polled).
NQI_JOB_STALE_SECONDS = int(os.environ.get("NQI_JOB_STALE_SECONDS", "300"))
# Bounds of every uploaded table (nqihub.tables.limits: NQI_TABLE_MAX_ROWS, _MAX_COLUMNS,
# _MAX_CELL_CHARS, _MAX_PART_BYTES, _MAX_TOTAL_BYTES, _MAX_COMPRESSION_RATIO,
# _MAX_SHARED_STRINGS, _MAX_SHARED_STRINGS_BYTES, _MAX_JOB_SECONDS, _MAX_STORED_ERRORS);
# the defaults are in that module.
for _name in (
    "MAX_ROWS",
    "MAX_COLUMNS",
    "MAX_CELLS",
    "MAX_CELL_CHARS",
    "MAX_PART_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_SHARED_STRINGS",
    "MAX_SHARED_STRINGS_BYTES",
    "MAX_JOB_SECONDS",
    "MAX_STORED_ERRORS",
):
    if os.environ.get(f"NQI_TABLE_{_name}"):
        globals()[f"NQI_TABLE_{_name}"] = int(os.environ[f"NQI_TABLE_{_name}"])

# The public address printed in QR codes on labels and certificates (/verify/<code>/), e.g.
# https://nqi.example.gov.cn. Empty: relative links (fine for the embedded default).
NQI_PUBLIC_BASE_URL = os.environ.get("NQI_PUBLIC_BASE_URL", "").rstrip("/")

# The cache every process and server shares: rate limits and throttles count in it
# (nqihub.core.ratelimit), so a limit holds for the installation, not per process.
# NQI_CACHE_URL=redis://host:6379/0 (or rediss://, unix://) uses Redis; unset, the database:
# Django's database cache (table nqihub_cache, created by `migrate`) and, for counters, the
# core_ratecounter table (the database cache cannot count atomically).
NQI_CACHE_URL = os.environ.get("NQI_CACHE_URL", "").strip()
CACHES: dict[str, dict[str, object]]
if NQI_CACHE_URL:
    if NQI_CACHE_URL.split("://", 1)[0] not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured("NQI_CACHE_URL must be a redis://, rediss:// or unix:// address.")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": NQI_CACHE_URL,
            "KEY_PREFIX": os.environ.get("NQI_CACHE_KEY_PREFIX", "nqihub"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "nqihub_cache",
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }

# Where rate-limit counters live (nqihub.core.ratelimit): "cache" (Redis, atomic INCR) when
# NQI_CACHE_URL is set, else "database" (one atomic upsert per hit in core_ratecounter).
NQI_RATE_COUNTERS = os.environ.get("NQI_RATE_COUNTERS", "cache" if NQI_CACHE_URL else "database")
if NQI_RATE_COUNTERS not in ("cache", "database"):
    raise ImproperlyConfigured("NQI_RATE_COUNTERS must be 'cache' or 'database'.")

# Public certificate checks per client address and minute (0: no limit), counted in the
# shared counters above.
NQI_VERIFY_RATE_PER_MINUTE = int(os.environ.get("NQI_VERIFY_RATE_PER_MINUTE", "60"))

EMAIL_BACKEND = os.environ.get("NQI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("NQI_FROM_EMAIL", "nqihub@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "nqihub.accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "nqihub.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "nqihub.core.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "nqihub.core.api.pagination.DefaultPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "nqihub.core.api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "NQI Hub API",
    "DESCRIPTION": (
        "Machine interface of NQI Hub, the one-stop quality-infrastructure platform. "
        "Authenticate with `Authorization: Token <key>`; every error body has `detail` and `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and its assets are served by the project itself (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a field called state, kind or outcome with different choices; each
    # gets a stable, meaningful schema name instead of a hash suffix.
    "ENUM_NAME_OVERRIDES": {
        "RegistrationStateEnum": "nqihub.organizations.models.EnterpriseRegistration.State",
        "OrganizationKindEnum": "nqihub.core.access.OrganizationKind",
        "AuditOutcomeEnum": "nqihub.audit.models.Outcome",
        "ImportJobStateEnum": "nqihub.metrology.models.ImportJob.State",
        "VerificationApplicationStateEnum": "nqihub.metrology.models.VerificationApplication.State",
        "VerificationOutcomeEnum": "nqihub.metrology.models.VerificationResult.Outcome",
        "InstrumentStatusEnum": "nqihub.metrology.models.Instrument.Status",
        "SamplingConclusionEnum": "nqihub.sampling.models.Conclusion",
        "SamplingDisposalStateEnum": "nqihub.sampling.models.Disposal.State",
        "SamplingRecordStageEnum": "nqihub.sampling.models.SamplingRecord.Stage",
        "SamplingBatchStateEnum": "nqihub.sampling.models.Batch.State",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "nqihub.core.api.schema.drop_backend_integer_ranges",
        "nqihub.core.api.schema.error_code_enums",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("NQI_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Set by nqihub.core.middleware.SecurityHeadersMiddleware (docs/security.md says why).
# Everything comes from the site itself: no inline script or style (templates carry none),
# images also as data: URLs (the QR codes and the admin's icons), no plug-ins, no framing.
NQI_CONTENT_SECURITY_POLICY = os.environ.get(
    "NQI_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# No page uses any of these browser features; an injected or embedded page may not either.
NQI_PERMISSIONS_POLICY = os.environ.get(
    "NQI_PERMISSIONS_POLICY",
    "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), bluetooth=(), camera=(), "
    "display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), publickey-credentials-get=(), serial=(), usb=(), xr-spatial-tracking=()",
)
if not DEBUG and env_bool("NQI_BEHIND_TLS_PROXY", False):
    SECURE_HSTS_SECONDS = int(os.environ.get("NQI_HSTS_SECONDS", "0"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Lockout is per account: a bureau often reaches us through one NAT address, and locking that
# address would lock out every colleague. Brute force across accounts is still audited.
SILENCED_SYSTEM_CHECKS: list[str] = ["axes.W006"]
NQI_SESSION_REFRESH = timedelta(seconds=60)
