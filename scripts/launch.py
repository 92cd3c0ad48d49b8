"""Start the dashboard: several Streamlit processes under supervisord, behind HAProxy.

Why several processes: Streamlit runs every reader's page in one Python
process, and Python runs one thread at a time, so readers' pages queue behind
each other (``bench/load_sessions.py``). One process per core lets them run
side by side.

What runs (``--workers N``, N > 1): supervisord (PyPI ``supervisor``) keeps N
``streamlit run app.py`` processes on free loopback ports and one HAProxy
(Debian's ``haproxy``) on the public port, restarting any that exits. HAProxy's
configuration is ``deploy/haproxy.cfg.template``: cookie stickiness
(``equity_worker``), least-connections for new readers, health checks on
``/_stcore/health`` every second, and retries on another process when one dies.
All processes share one cookie secret (``STREAMLIT_SERVER_COOKIE_SECRET``, made
here when it is not set), as Streamlit requires for replicas. This program
checks its options, writes both configurations into the cache
(``serving/port-P``), then *becomes* supervisord (exec): stopping it (SIGTERM,
Ctrl-C) stops everything it started.

``--workers 1`` runs plain ``streamlit run app.py`` on the public port.
Options this program does not know (``--theme.base dark``) go to every
Streamlit process.

Also used by deploy/compose.yaml: ``--render-haproxy FILE --server-template
NAME:PORT:COUNT`` writes the same HAProxy configuration for containers found by
DNS, and exits.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from string import Template

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
sys.path.insert(0, str(REPO))

from equity import config  # noqa: E402

#: A link longer than this gets HAProxy's 414 (deploy/haproxy.cfg.template says it in words).
MAX_LINK_BYTES = 65536
#: Room for a multipart envelope around the largest file Streamlit accepts.
UPLOAD_ENVELOPE_BYTES = 64 * 1024
MAX_WORKERS = 32
#: The cookie that keeps a browser on its process (deploy/haproxy.cfg.template); its value is the process's number.
COOKIE = "equity_worker"


def default_workers() -> int:
    """One process per processor core, at most 4 (each holds the build: about 350 MiB)."""
    return max(1, min(4, os.cpu_count() or 1))


def upload_limit_mb(config_toml: Path = REPO / ".streamlit" / "config.toml") -> int:
    """The app's upload limit (``server.maxUploadSize``, MB; Streamlit's default 200 when unset)."""
    import tomllib

    with config_toml.open("rb") as handle:
        return int(tomllib.load(handle).get("server", {}).get("maxUploadSize", 200))


def render_haproxy(bind: str, servers: list[str], stats_socket: Path | None = None,
                   cookie_extra: str = "") -> str:
    """deploy/haproxy.cfg.template with the public address, the backend's server lines and limits."""
    limit = upload_limit_mb()
    return Template((DEPLOY / "haproxy.cfg.template").read_text()).substitute(
        bind=bind,
        servers="\n".join(f"    {line}" for line in servers),
        stats_socket=f"    stats socket {stats_socket} mode 600 level admin" if stats_socket else "",
        cookie_extra=cookie_extra,
        upload_limit_mb=limit,
        max_body_bytes=limit * 2 ** 20 + UPLOAD_ENVELOPE_BYTES,
    )


def local_servers(ports: list[int]) -> list[str]:
    """Server lines for Streamlit processes on loopback; the cookie value is the process's number."""
    return [f"server streamlit-{index} 127.0.0.1:{port} cookie {index}" for index, port in enumerate(ports)]


def streamlit_command(script: str, port: int, streamlit_args: list[str], address: str = "127.0.0.1") -> list[str]:
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
               "--server.port", str(port)]
    if address:
        command += ["--server.address", address]
    return command + streamlit_args


def render_supervisord(runtime: Path, haproxy: str, commands: list[list[str]]) -> str:
    """deploy/supervisord.conf.template with HAProxy and one program per Streamlit process."""
    program = Template((DEPLOY / "streamlit-program.template").read_text())
    programs = "\n".join(program.substitute(index=index, command=shlex.join(command).replace("%", "%%"),
                                             repo=REPO, runtime=runtime)
                         for index, command in enumerate(commands))
    group = "[group:streamlit]\nprograms=" + ",".join(f"streamlit-{index}" for index in range(len(commands)))
    return Template((DEPLOY / "supervisord.conf.template").read_text()).substitute(
        runtime=runtime, repo=REPO, haproxy=haproxy, programs=programs + "\n" + group + "\n")


def runtime_dir(port: int, cache: Path | None = None) -> Path:
    """Where one served instance keeps its rendered configurations, sockets and logs.

    In the cache (git-ignored; ``cache`` or the configured one), one folder per public port; a Unix
    socket path must stay under 108 bytes, so a deep cache path falls back to the temp folder."""
    folder = (cache or config.cache_dir()) / "serving" / f"port-{port}"
    if len(str(folder / "supervisor.sock")) > 100:
        folder = Path("/tmp") / f"equity-serving-{port}"
    return folder


def free_loopback_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def check_port_free(address: str, port: int) -> str | None:
    """None if ``address:port`` can be listened on, else the one-line reason."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address or "0.0.0.0", port))
        except OSError as error:
            return (f"cannot listen on {address or '0.0.0.0'}:{port}: {error.strerror} "
                    "(is the dashboard already running? choose another port with --port)")
    return None


def haproxy_state(runtime: Path, timeout: float = 5) -> dict[str, str]:
    """Status of each Streamlit process as HAProxy sees it (``UP``, ``DOWN``, ...), from its stats socket."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(str(runtime / "haproxy.sock"))
        sock.sendall(b"show stat\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    lines = reply.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
    return {row["svname"]: row["status"] for row in rows
            if row["pxname"] == "streamlit" and row["svname"] not in {"FRONTEND", "BACKEND"}}


def start_in_background(workers: int, port: int, script: str = "app.py", streamlit_args: list[str] = (),
                        env: dict | None = None, timeout: float = 120) -> subprocess.Popen:
    """Serve on 127.0.0.1:``port`` as ``scripts/run-dashboard.sh`` does, for the tests and benchmarks.

    Returns once every Streamlit process answers (through HAProxy and as supervisord's RUNNING when
    ``workers`` > 1). ``env`` replaces the environment (its ``EQUITY_CACHE`` says where the runtime
    folder is). Raises RuntimeError naming why when it cannot start; stop it with :func:`stop`."""
    env = dict(os.environ if env is None else env)
    command = [sys.executable, str(REPO / "scripts" / "launch.py"), "--workers", str(workers), "--port", str(port),
               "--address", "127.0.0.1", "--script", script, *streamlit_args]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runtime = runtime_dir(port, config.cache_dir(env.get("EQUITY_CACHE")))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited: {process.stderr.read().decode()[-2000:]}")
        if _serving(port, workers, runtime):
            return process
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"the dashboard did not answer its health checks within {timeout:.0f} s")


def _serving(port: int, workers: int, runtime: Path) -> bool:
    if workers > 1:
        try:
            states = haproxy_state(runtime)
        except OSError:
            return False
        return len(states) == workers and set(states.values()) == {"UP"} and supervised_running(runtime)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def supervised(runtime: Path) -> dict[str, tuple[str, int | None]]:
    """supervisorctl's view of one served instance: program name -> (state, pid)."""
    reply = subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(runtime / "supervisord.conf"),
                            "status"], capture_output=True, text=True, timeout=30).stdout
    states = {}
    for line in reply.splitlines():
        name, state, *_ = line.split()
        pid = int(line.split("pid ")[1].split(",")[0]) if "pid " in line else None
        states[name.rpartition(":")[2]] = (state, pid)
    return states


def supervised_running(runtime: Path) -> bool:
    states = supervised(runtime)
    return bool(states) and {state for state, _ in states.values()} == {"RUNNING"}


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as an operator stops it (supervisord then stops every process it started); SIGKILL after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, list[str], argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="scripts/run-dashboard.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.environ.get("EQUITY_WORKERS", str(default_workers())),
                        metavar=f"1..{MAX_WORKERS}",
                        help="Streamlit processes (default: one per core, at most 4; or EQUITY_WORKERS)")
    parser.add_argument("--port", type=int, default=8501, help="public port (default 8501)")
    parser.add_argument("--address", default="", help="address to listen on (default: all)")
    parser.add_argument("--script", default="app.py",
                        help="Streamlit script to serve, relative to the repository (default: the dashboard; "
                        "the benchmarks serve their floor pages the same way)")
    parser.add_argument("--render-haproxy", metavar="FILE", type=Path,
                        help="only write the HAProxy configuration for --server-template and exit")
    parser.add_argument("--server-template", metavar="NAME:PORT:COUNT",
                        help="with --render-haproxy: COUNT Streamlit containers found by DNS as NAME:PORT")
    args, streamlit_args = parser.parse_known_args(argv)
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers (or EQUITY_WORKERS) must be 1..{MAX_WORKERS}, not {args.workers}")
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be 1..65535, not {args.port}")
    return args, streamlit_args, parser


def render_for_containers(target: Path, template: str, port: int) -> str:
    """HAProxy configuration for Streamlit containers resolved by DNS (deploy/compose.yaml).

    Each container's cookie is made from its address and a key (HAProxy's
    dynamic cookies), since the containers are not known when this is written."""
    name, server_port, count = template.split(":")
    servers = ["dynamic-cookie-key \"${EQUITY_COOKIE_KEY}\"",
               f"server-template streamlit- {int(count)} {name}:{int(server_port)} resolvers dns init-addr none"]
    text = render_haproxy(f":{port}", servers, cookie_extra=" dynamic")
    text += "\nresolvers dns\n    parse-resolv-conf\n    hold valid 5s\n"
    target.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    args, streamlit_args, parser = parse(argv)
    if args.render_haproxy:
        if not args.server_template:
            parser.error("--render-haproxy needs --server-template NAME:PORT:COUNT")
        render_for_containers(args.render_haproxy, args.server_template, args.port)
        return 0
    problem = check_port_free(args.address, args.port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    os.chdir(REPO)
    if args.workers == 1:
        command = streamlit_command(args.script, args.port, streamlit_args, args.address)
        os.execv(sys.executable, command)
    haproxy = shutil.which(os.environ.get("EQUITY_HAPROXY", "haproxy"))
    if haproxy is None:
        print(f"cannot serve {args.workers} processes: HAProxy is not installed "
              "(apt-get install haproxy, or use --workers 1)", file=sys.stderr)
        return 1
    runtime = runtime_dir(args.port)
    runtime.mkdir(parents=True, exist_ok=True)
    for stale in ("haproxy.sock", "supervisor.sock"):
        (runtime / stale).unlink(missing_ok=True)
    ports = free_loopback_ports(args.workers)
    shown = args.address if args.address not in {"", "0.0.0.0", "::"} else "*"
    (runtime / "haproxy.cfg").write_text(
        render_haproxy(f"{shown}:{args.port}", local_servers(ports), stats_socket=runtime / "haproxy.sock"))
    commands = [streamlit_command(args.script, port, streamlit_args) for port in ports]
    (runtime / "supervisord.conf").write_text(render_supervisord(runtime, haproxy, commands))
    os.environ.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    print(f"Chicago Digital Equity Dashboard: http://{'localhost' if shown == '*' else shown}:{args.port} "
          f"({args.workers} Streamlit processes behind HAProxy; status: "
          f"supervisorctl -c {runtime / 'supervisord.conf'} status)", flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "supervisor.supervisord", "-c", str(runtime / "supervisord.conf")])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
