"""A real NQI Hub on loopback for the tests that attack (``@pytest.mark.attack``): its own
database, the web server (gunicorn, as ``make demo`` runs it) and the task worker
(``manage.py db_worker``) as separate processes, which a test may load, fuzz or kill.

The site's database is made for it and dropped afterwards: a SQLite file in a temporary
directory, or, when the suite runs on PostgreSQL (``DATABASE_URL=postgres://…``), a database
named after the suite's one with ``_attack_<pid>`` appended on the same server. It is migrated
and loaded with the demo (``seed_demo`` and a small ``seed_metrology_demo``), so the demo's
accounts act in it; ``Site.tokens`` holds an API token of an enterprise, an institution and a
regulator.

Every process is started in its own process group and always stopped in ``close()`` (and the
fixtures call it in a ``finally``), so a failing test leaves nothing running.

The attack tests are bounded by environment variables, short by default for a developer and
longer in CI (``.ci/run``):

* ``NQI_ATTACK_FUZZ_EXAMPLES`` examples per API operation and identity, ``NQI_ATTACK_FUZZ_SECONDS``
  for the whole fuzzing run of one identity;
* ``NQI_ATTACK_LOAD_SECONDS`` for the load test;
* ``NQI_ATTACK_LOG_DIR``: a directory the servers' logs are copied to when the site closes;
* ``NQI_REQUIRE_ATTACK=1``: a missing prerequisite (gunicorn, schemathesis) fails instead of
  skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
REQUIRE_ENV = "NQI_REQUIRE_ATTACK"
DEMO_INSTRUMENTS = 600
# The demo accounts whose tokens the tests use: an enterprise, an institution, a regulator. The
# fuzzing run acts as other people than the load and fault tests, so that what it may do to
# its own access (revoke its token, end a membership) cannot blind the tests that follow.
IDENTITIES = {
    "enterprise": "tianhe",
    "institution": "baotou_jiliang",
    "regulator": "qingshan_reg",
    "fuzz-enterprise": "luwang",
    "fuzz-institution": "nmg_jiliang",
    "fuzz-regulator": "kundulun_reg",
}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def require(module: str) -> None:
    """Skip (or fail, with ``NQI_REQUIRE_ATTACK=1`` as in CI) when ``module`` is missing."""
    try:
        __import__(module)
    except ImportError:
        reason = f"{module} is not installed (requirements-dev.txt)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires the attack tests to run", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


@dataclass
class Site:
    directory: Path
    database_url: str
    env: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)
    logs: list = field(default_factory=list)
    base_url: str = ""

    # --- the database -------------------------------------------------------------------

    @classmethod
    def create(cls) -> Site:
        directory = Path(tempfile.mkdtemp(prefix="nqi-attack-"))
        suite_url = os.environ.get("DATABASE_URL", "")
        if suite_url.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(suite_url)
            name = f"{parts.path.lstrip('/') or 'nqihub'}_attack_{os.getpid()}"
            with _postgres_admin(suite_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            url = urlunsplit(parts._replace(path="/" + name))
        else:
            url = f"sqlite:///{directory / 'site.sqlite3'}"
        site = cls(directory=directory, database_url=url)
        site.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("NQI_", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "nqihub.settings",
            "DATABASE_URL": url,
            "NQI_VAR_DIR": str(directory / "var"),
            "NQI_SECRET_KEY": "attack-tests-" + os.urandom(16).hex(),
            "NQI_AUDIT_KEY": "attack-audit-" + os.urandom(16).hex(),
            "NQI_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        try:
            site.manage("migrate", "--noinput", timeout=600)
            site.manage("createcachetable", timeout=120)
            site.manage("seed_demo", timeout=600)
            site.manage("seed_metrology_demo", "--instruments", str(DEMO_INSTRUMENTS), timeout=600)
            site.tokens = site.python(
                "from nqihub.accounts.models import User\n"
                "from nqihub.accounts.services import api_token_create\n"
                f"names = {IDENTITIES!r}\n"
                "out = {k: api_token_create(actor=User.objects.get(username=u), name='attack')[1]"
                " for k, u in names.items()}\n"
            )
        except BaseException:
            site.close()
            raise
        return site

    def manage(self, *args: str, timeout: float = 300, env: dict | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def python(self, code: str, timeout: float = 300):
        """Run ``code`` in Django against the site's database; it sets ``out``, which is
        returned (through JSON)."""
        script = (
            "import json, django\ndjango.setup()\nfrom nqihub.core import context\nout = None\n"
            "with context.use(context.RequestContext(channel='cli')):\n"
            + "".join(f"    {line}\n" for line in code.splitlines())
            + "print('\\n@@' + json.dumps(out, default=str))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise AssertionError(f"site script failed:\n{code}\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout.rsplit("\n@@", 1)[1])

    # --- processes ----------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.directory / f"{name}.{len(self.logs)}.log", "w+")
        self.logs.append(log)
        process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches gunicorn's workers too
        )
        self.processes.append(process)
        return process

    def start_web(self, *, workers: int = 2, threads: int = 4, env: dict | None = None) -> subprocess.Popen:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        process = self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "nqihub.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
            ],
            env,
        )
        self.wait_until_up(process)
        return process

    def wait_until_up(self, process: subprocess.Popen, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError("the web server stopped at start:\n" + self.log_text())
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise AssertionError("the web server did not answer /healthz in time:\n" + self.log_text())

    def start_worker(self, env: dict | None = None) -> subprocess.Popen:
        return self._spawn("worker", [sys.executable, "manage.py", "db_worker", "--interval", "0.2"], env)

    @staticmethod
    def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the process's whole group (gunicorn's master and workers), and wait."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def log_text(self) -> str:
        text = []
        for log in self.logs:
            log.flush()
            log.seek(0)
            text.append(f"--- {Path(log.name).name}\n" + log.read()[-6000:])
        return "\n".join(text)

    def close(self) -> None:
        for process in self.processes:
            try:
                self.kill(process)
            except Exception:  # keep stopping the others
                pass
        self.processes.clear()
        keep = os.environ.get("NQI_ATTACK_LOG_DIR")
        for log in self.logs:
            log.close()
            if keep:  # the servers' logs, kept for a look after a failure
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(log.name, Path(keep) / f"{os.getpid()}-{Path(log.name).name}")
        if self.database_url.startswith(("postgres://", "postgresql://")):
            name = urlsplit(self.database_url).path.lstrip("/")
            try:
                with _postgres_admin(self.database_url) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:
                pass
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- HTTP ---------------------------------------------------------------------------

    def headers(self, identity: str) -> dict:
        return {"Authorization": f"Token {self.tokens[identity]}", "Accept-Language": "en"}
