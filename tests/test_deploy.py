"""deploy/: what can be checked without Docker or a cluster on this machine.

The compose file's HAProxy configuration is rendered with the same template and
command it runs and checked by ``haproxy -c``; the Kubernetes manifests parse and
carry the health probes, the shared cookie secret and cookie affinity (never
affinity by client address); the Dockerfile runs the README's install and build."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from equity import config
from tests.browser.conftest import launch

DEPLOY = config.REPO_ROOT / "deploy"


def _yaml(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


def _kubernetes() -> dict[str, dict]:
    return {document["kind"]: document for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
            for document in yaml.safe_load_all(path.read_text()) if document}


def test_compose_renders_haproxy_from_the_one_machine_template_for_every_replica(tmp_path):
    compose = _yaml("compose.yaml")
    command = compose["services"]["haproxy"]["command"][-1]
    render, _, run = command.partition("&&")
    argv = shlex.split(render)
    assert argv[:2] == ["python3", "scripts/launch.py"]
    target = tmp_path / "haproxy.cfg"
    argv[argv.index("--render-haproxy") + 1] = str(target)
    done = subprocess.run([sys.executable, *argv[1:]], cwd=config.REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rendered = target.read_text()
    replicas = compose["services"]["dashboard"]["deploy"]["replicas"]
    assert re.search(rf"server-template streamlit- {replicas} dashboard:8501 ", rendered)
    assert "cookie equity_worker insert" in rendered and " dynamic" in rendered
    template_lines = [line for line in (DEPLOY / "haproxy.cfg.template").read_text().splitlines()
                      if line.strip() and "$" not in line]
    assert all(line in rendered.splitlines() for line in template_lines)  # the same template, whole
    secret = compose["services"]["dashboard"]["environment"]["STREAMLIT_SERVER_COOKIE_SECRET"]
    assert compose["services"]["haproxy"]["environment"]["EQUITY_COOKIE_KEY"] == secret
    checked = subprocess.run([launch.shutil.which("haproxy"), "-c", "-f", str(target)], capture_output=True,
                             text=True, env={**os.environ, "EQUITY_COOKIE_KEY": "check"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert run.split()[:2] == ["exec", "haproxy"]


def test_the_kubernetes_pods_are_probed_on_streamlits_health_endpoint_and_share_one_secret():
    pod = _kubernetes()["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health"
    assert container["envFrom"] == [{"secretRef": {"name": "equity-dashboard"}}]
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_kubernetes_keeps_readers_on_their_pod_by_cookie_not_by_address():
    manifests = _kubernetes()
    assert manifests["Service"]["spec"].get("sessionAffinity", "None") != "ClientIP"
    annotations = manifests["Ingress"]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-name"] == launch.COOKIE
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def _commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_the_dockerfile_runs_the_readmes_install_and_build_as_a_non_root_user():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    script = _commands((config.REPO_ROOT / "scripts" / "run-dashboard.sh").read_text())
    install = next(line for line in script if line.startswith("bash scripts/install.sh"))
    build = next(line for line in script if line.startswith("python3 -m equity build"))
    assert f"RUN {install}" in dockerfile and build in dockerfile.split("CMD", 1)[1]
    user = re.search(r"^USER (\S+)", dockerfile, re.M)
    assert user and user.group(1) not in {"root", "0"}
    assert "/_stcore/health" in dockerfile.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    assert re.search(r'VOLUME \["/snapshot", "/cache"\]', dockerfile)


@pytest.mark.parametrize("name", ["compose.yaml", *[f"kubernetes/{p.name}" for p in (DEPLOY / "kubernetes").glob("*.yaml")]])
def test_every_manifest_parses(name):
    assert list(yaml.safe_load_all((DEPLOY / name).read_text()))


def test_the_december_update_runs_the_update_command_on_the_pods_shared_cache():
    manifests = _kubernetes()
    job = manifests["CronJob"]["spec"]
    minute, hour, day, month, weekday = job["schedule"].split()
    assert month == "12" and day == "*"  # every day of December
    assert job["concurrencyPolicy"] == "Forbid"
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"][:4] == ["python3", "-m", "equity", "update"]

    def claims(spec):
        return {volume["name"]: volume.get("persistentVolumeClaim", {}).get("claimName") for volume in spec["volumes"]}

    dashboard = manifests["Deployment"]["spec"]["template"]["spec"]
    assert claims(pod)["cache"] == claims(dashboard)["cache"] is not None


def test_the_systemd_timer_runs_the_update_each_day_of_december():
    import configparser

    units = {}
    for name in ("equity-update.service", "equity-update.timer"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read(DEPLOY / "systemd" / name)
        units[name] = parser
    assert "-m equity update" in units["equity-update.service"]["Service"]["ExecStart"]
    calendar = units["equity-update.timer"]["Timer"]["OnCalendar"]
    assert calendar.split()[0].split("-")[1] == "12"
    analyze = launch.shutil.which("systemd-analyze")
    if analyze:  # systemd's own reading of the expression, where systemd is installed
        done = subprocess.run([analyze, "calendar", "--iterations", "3", calendar], capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.count("-12-") >= 3
