"""Settings for the test suite: the real settings, with a fast password hasher."""

from nqihub.settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tasks run inline in tests, so a test sees their effect at once.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}

# A service that raises an error code no app declared fails the test (nqihub.core.errors).
NQI_STRICT_ERROR_CODES = True

# Django's cache is per process in tests (each test starts with it empty, conftest.py); the
# rate-limit counters still live in the database (NQI_RATE_COUNTERS), as in the embedded setup.
if not NQI_CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# No shared checkpoint file: a test that writes or checks checkpoints names its own, so one
# test database's chain is never compared with another's checkpoints.
NQI_AUDIT_CHECKPOINT_FILE = ""
