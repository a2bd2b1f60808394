"""A PostgreSQL cluster that lives as long as one command: the test suite's second database.

    python tests/throwaway_postgres.py -- python -m pytest          # what `make test-postgres` runs
    python tests/throwaway_postgres.py --shell                      # a cluster to poke at; Ctrl+D stops it

It runs Debian's server binaries (/usr/lib/postgresql/N/bin, installed by `make postgres-server`) from a
temporary folder: initdb, then `postgres` listening only on a unix socket in that folder (no port to
collide with, nothing reachable from the network), with fsync off since the data is thrown away. initdb
refuses to run as root, so as root the server runs as the `postgres` user (made by Debian's package).
The command gets OBROLAN_TEST_DATABASE_URL pointing at the cluster; its exit code is this script's.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

USER = "obrolan"  # the cluster's superuser; trust authentication on the socket only


def server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    sys.exit("No PostgreSQL server binaries (initdb) found: run `make postgres-server` "
             "(Debian's postgresql package) first.")


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--", *command]
    sys.exit("Running as root and no `postgres` or `nobody` user to run the server as.")


def start(folder: Path) -> str:
    binaries = server_binaries()
    data, socket_dir = folder / "data", folder
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres" if _has_user("postgres") else "nobody")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
                                    "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
                   check=True, stdout=subprocess.DEVNULL)
    options = (f"-k {socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB")
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                                    "-o", options, "-w", "start"]), check=True, stdout=subprocess.DEVNULL)
    return f"postgresql+psycopg://{USER}@/postgres?host={socket_dir}"


def stop(folder: Path) -> None:
    binaries = server_binaries()
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate",
                                    "-w", "stop"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    shell = argv == ["--shell"]
    if not argv:
        sys.exit(__doc__)
    folder = Path(tempfile.mkdtemp(prefix="obrolan-pg-"))
    folder.chmod(0o755)
    try:
        url = start(folder)
        print(f"PostgreSQL test cluster at {url}", file=sys.stderr)
        env = {**os.environ, "OBROLAN_TEST_DATABASE_URL": url}
        if shell:
            return subprocess.run([os.environ.get("SHELL", "/bin/sh")], env=env).returncode
        return subprocess.run(argv, env=env).returncode
    finally:
        stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
