"""docker-compose.yml is not run on this machine, so it is read here and checked for coherence: every service has an
image, what it waits for exists and says when it is ready, the workers read the queues linktrack/queues.py names and
together all five, the app is given only settings it reads, and the scale profile adds up to two web servers, three
workers, one beat, RabbitMQ, Redis and a PostgreSQL primary with a streaming replica."""

import re
from pathlib import Path

import pytest
import yaml

from linktrack import queues

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SETTINGS_SOURCE = (ROOT / "linktrack" / "settings.py").read_text()


def _running(*profiles: str) -> dict[str, dict]:
    """The services `docker compose [--profile P ...] up` starts: those without a profile, and those of P."""
    return {
        name: service
        for name, service in SERVICES.items()
        if not service.get("profiles") or set(service["profiles"]) & set(profiles)
    }


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return command if isinstance(command, list) else command.split()


def _workers(services: dict[str, dict]) -> dict[str, dict]:
    return {name: s for name, s in services.items() if _command(s)[:4] == ["celery", "-A", "linktrack", "worker"]}


def _option(command: list[str], name: str) -> str:
    values = [part.split("=", 1)[1] for part in command if part.startswith(f"--{name}=")]
    assert len(values) == 1, f"{command} should give --{name}= once"
    return values[0]


def _is_app(service: dict) -> bool:
    return "build" in service


def test_every_service_has_an_image_and_waits_only_for_services_that_exist_and_say_when_they_are_ready():
    for name, service in SERVICES.items():
        assert service.get("image") or service.get("build"), f"{name} has no image"
        for target, condition in service.get("depends_on", {}).items():
            assert target in SERVICES, f"{name} depends on {target}, which is no service"
            assert condition["condition"] in ("service_healthy", "service_completed_successfully")
            if condition["condition"] == "service_healthy":
                assert SERVICES[target]["healthcheck"]["test"], f"{target} has no healthcheck to wait for"
            else:
                assert SERVICES[target]["restart"] == "no", f"{target} runs once, so it must not restart"
            # a service started without a profile never waits for one that only a profile starts
            if not service.get("profiles"):
                assert not SERVICES[target].get("profiles"), f"{name} waits for {target}, which is in a profile"
    for name in ("postgres", "redis", "rabbitmq", "web", *_workers(SERVICES)):
        assert SERVICES[name]["healthcheck"]["test"], f"{name} has no healthcheck"


def test_every_named_volume_is_declared():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
            else:
                assert source in COMPOSE["volumes"], f"{name} uses the undeclared volume {source}"


def test_the_app_is_given_only_settings_it_reads_and_the_broker_is_the_rabbitmq_service():
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', SETTINGS_SOURCE))
    apps = {name: service for name, service in SERVICES.items() if _is_app(service)}
    assert {"web", "worker-sending", "beat", "migrate"} <= apps.keys()
    for name, service in apps.items():
        unread = set(service["environment"]) - read
        assert unread == set(), f"{name} sets {unread}, which linktrack/settings.py does not read"
        environment = service["environment"]
        assert (
            environment["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in environment["DATABASE_URL"]
        )
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["CELERY_BROKER_URL"].startswith("amqp://linktrack:")
        assert environment["CELERY_BROKER_URL"].endswith("@rabbitmq:5672/linktrack")
    rabbitmq = SERVICES["rabbitmq"]["environment"]
    assert rabbitmq["RABBITMQ_DEFAULT_USER"] == "linktrack" and rabbitmq["RABBITMQ_DEFAULT_VHOST"] == "linktrack"


@pytest.mark.parametrize("profiles", [(), ("scale",)], ids=["default", "scale"])
def test_the_workers_read_only_known_queues_and_together_all_five(profiles):
    workers = _workers(_running(*profiles))
    assert len(workers) == 3
    read: list[str] = []
    for name, worker in workers.items():
        command = _command(worker)
        names = _option(command, "queues").split(",")
        assert set(names) <= set(queues.QUEUES), f"{name} reads a queue linktrack/queues.py does not name"
        read += names
        # each worker its own node name, which its healthcheck pings
        node = _option(command, "hostname").split("@")[0]
        assert f"-d {node}@$$HOSTNAME " in " ".join(worker["healthcheck"]["test"])
        assert worker["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        # an upload saved by web must be readable by the worker that imports it
        assert "media:/app/media" in worker["volumes"]
        assert worker["environment"]["IMPORT_FILES_DIR"].startswith("/app/media/")
    assert sorted(read) == sorted(queues.QUEUES), "every queue read by exactly one group of workers"
    # a launch never waits behind receipts: dispatch and send are read by a worker that reads neither of those
    sending = next(w for w in workers.values() if "dispatch" in _option(_command(w), "queues"))
    assert set(_option(_command(sending), "queues").split(",")) == {"dispatch", "send"}


@pytest.mark.parametrize("profiles", [(), ("scale",), ("scale", "smpp", "bounces")])
def test_there_is_exactly_one_beat_whatever_the_profiles(profiles):
    beats = [s for s in _running(*profiles).values() if _command(s)[:4] == ["celery", "-A", "linktrack", "beat"]]
    assert len(beats) == 1


def test_the_scale_profile_runs_two_web_three_workers_beat_rabbitmq_redis_and_postgres_with_a_replica():
    running = _running("scale")
    web = [s for s in running.values() if _command(s)[:2] == ["gunicorn", "linktrack.wsgi:application"]]
    assert len(web) == 2
    assert len({port for s in web for port in s["ports"]}) == 2, "the two web servers need ports of their own"
    assert len(_workers(running)) == 3
    images = [s.get("image", "").split(":")[0] for s in running.values()]
    assert images.count("postgres") == 2 and "redis" in images and "rabbitmq" in images
    # the replica is copied from the primary with pg_basebackup and follows it (standby, written by -R)
    replica = running["postgres-replica"]
    script = " ".join(_command(replica))
    assert "pg_basebackup --host=postgres" in script and "--write-recovery-conf" in script
    assert "exec postgres -c hot_standby_feedback=on" in script
    # which the reports read once REPORTS_DATABASE_URL names it (empty by default: the default stack has no replica)
    for name in ("web", "web-2"):
        assert running[name]["environment"]["REPORTS_DATABASE_URL"] == "${REPORTS_DATABASE_URL:-}"
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    # the primary lets it connect for replication (its data directory is created with that rule)
    primary_mounts = SERVICES["postgres"]["volumes"]
    assert any(m.endswith("/docker-entrypoint-initdb.d/allow-replication.sh:ro") for m in primary_mounts)
    assert "host replication" in (ROOT / "docker" / "postgres-allow-replication.sh").read_text()
    # and the default stack has neither
    assert "web-2" not in _running() and "postgres-replica" not in _running()


def test_the_default_stack_runs_web_workers_and_beat_on_postgres_redis_and_rabbitmq():
    running = _running()
    assert {"postgres", "redis", "rabbitmq", "migrate", "web", "beat"} <= running.keys()
    assert running["web"]["command"][:2] == ["gunicorn", "linktrack.wsgi:application"]
    assert running["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", *_workers(running)):
        depends = running[name]["depends_on"]
        for service in ("postgres", "redis", "rabbitmq"):
            assert depends[service]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    # the click stream's Redis keeps what it holds across a restart
    assert "--appendonly" in running["redis"]["command"]
    # SMPP receipts arrive on the gateway's session, so a listener runs beside the workers when an org uses SMPP
    smpp = SERVICES["smpp-receipts"]
    assert smpp["profiles"] == ["smpp"] and smpp["command"][:3] == ["python", "manage.py", "smpp_receipts"]
    # bounces come to the bounce domain's MX; the worker that sends email signs their return paths
    bounces = SERVICES["bounces"]
    assert bounces["command"][:3] == ["python", "manage.py", "receive_bounces"] and bounces["profiles"] == ["bounces"]
    for worker in _workers(running).values():
        assert "EMAIL_BOUNCE_DOMAIN" in worker["environment"]
        # emails' unsubscribe links start with the app's public address
        assert worker["environment"]["PUBLIC_BASE_URL"].startswith("${PUBLIC_BASE_URL")
