"""docker/ (issue 5): the production compose file has every component, wired the way the code
expects; `docker compose config` validates it where the compose plugin exists (CI)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"


def test_compose_has_every_component():
    spec = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    services = spec["services"]
    assert {"postgres", "redis", "airflow-init", "api-server", "scheduler", "dag-processor", "triggerer",
            "worker", "metabase"} <= set(services)
    for name in ("api-server", "scheduler", "dag-processor", "triggerer", "worker"):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://"), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"] == ["celery", "worker"]
    assert "xiezuo_publish 1" in services["airflow-init"]["command"][0], "the one-slot publish pool"
    bi = services["metabase"]
    assert not any("XIEZUO" in k or "AIRFLOW" in k for k in bi["environment"]), "BI gets no pipeline credentials"
    init = (DOCKER / "initdb" / "10-xiezuo.sh").read_text(encoding="utf-8")
    assert "create role bi_reader login password '${BI_DB_PASSWORD}' in role xiezuo_bi;" in init
    docker = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install -r requirements.txt" in docker and "COPY dags/ dags/" in docker
    pins = (REPO / "requirements.txt").read_text(encoding="utf-8")
    assert "apache-airflow-providers-celery==" in pins and "\ncelery==" in pins, "the image installs the tested pins"
    for f in ("plugins", "dags", "dbt_project", "expectations", "requirements.txt", "pyproject.toml"):
        assert (REPO / f).exists(), f


def _compose() -> list[str] | None:
    """`docker compose` (v2 plugin) where it exists, else Debian's `docker-compose` (.ci/run installs it)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_validates(tmp_path):
    import pytest

    compose = _compose()
    if compose is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)")

    def config(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([*compose, "-f", str(path), "--env-file", str(DOCKER / "env.example"),
                               "config", "--quiet"], capture_output=True, text=True, cwd=tmp_path)

    out = config(DOCKER / "compose.yaml")
    assert out.returncode == 0, out.stderr
    # The validator can say no: the same file with a misspelt service key is refused.
    spec = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    copy = tmp_path / "compose.yaml"
    copy.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert config(copy).returncode == 0, "the re-serialised file still validates"
    spec["services"]["worker"]["restartt"] = "always"
    copy.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert config(copy).returncode != 0
