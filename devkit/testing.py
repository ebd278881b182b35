"""Pytest plugin: the real broker and database for integration tests, started by the harness.

Session fixtures start one in-memory Tansu broker and one SecantusDB server on free ports;
each test gets its own database name and its own topic and group names, so tests never see each
other's data. Fault tests ask for a :class:`LocalKafka` / :class:`LocalMongo` of their own, on
durable storage, which they may kill and restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from devkit.stack.components import (
    SERVICES,
    Component,
    Stack,
    kafka_components,
    mail_component,
    mongo_component,
)
from devkit.stack.mail_sink import Mailbox
from devkit.stack.processes import StackError, free_port, port_is_free
from shared.identity import Principal
from shared.settings import ServiceSettings
from shared.tokens import TokenSigner, generate_private_pem, load_private_key

# one signing key per test process: services under test trust its public half (``jwt_public_keys``)
TEST_SIGNING_KEY = generate_private_pem()
TEST_VERSION = "test-version"  # the token version of tokens minted by tests (never revoked)
FAST_KAFKA = {"kafka_session_timeout_ms": 1500, "kafka_heartbeat_interval_ms": 500, "kafka_request_timeout_ms": 5000}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def eventually(
    check: Callable[[], Awaitable[Any]],
    timeout_s: float = 20.0,
    what: str = "condition",
    *,
    interval_s: float = 0.05,
    not_yet: tuple[type[Exception], ...] = (AssertionError,),
) -> Any:
    """Poll ``check`` every ``interval_s`` until it returns something truthy, and return that; an
    exception of ``not_yet`` (an AssertionError by default) counts as not yet."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = await check()
            if value:
                return value
        except not_yet as exc:
            last = exc
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}: {last}")


class LocalProcesses:
    """Processes of our own a test starts, stops or kills: ``parts`` in start order, the server last."""

    parts: list[Component]

    def start(self) -> None:
        for part in self.parts:
            start_again(part)

    def kill(self) -> None:
        """SIGKILL the server (not what it stands on, such as the broker's store), as a crash would."""
        self.parts[-1].process.kill()

    def stop(self) -> None:
        for part in reversed(self.parts):
            part.process.stop()


class LocalKafka(LocalProcesses):
    """A broker process of our own, in memory or on a local S3 store (survives kill -9)."""

    def __init__(self, workdir: Path, *, durable: bool = False, compact: bool = True, **store: Any) -> None:
        """``store``: how the store compacts while the broker runs (:func:`kafka_components`)."""
        self.port = free_port()
        self.workdir = workdir
        self.parts = kafka_components(
            workdir, workdir / "run", self.port, free_port() if durable else None, compact=compact, **store
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


class LocalMongo(LocalProcesses):
    def __init__(self, workdir: Path, *, in_memory: bool = True, sync_on_commit: bool = True) -> None:
        self.port = free_port()
        self.part = mongo_component(
            workdir, workdir / "run", self.port, in_memory=in_memory, sync_on_commit=sync_on_commit
        )
        self.parts = [self.part]

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?retryWrites=false&directConnection=true"


class LocalMail(LocalProcesses):
    """An SMTP sink process of our own (:mod:`devkit.stack.mail_sink`): what is sent to ``url`` lands in ``mailbox``."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.part = mail_component(workdir, workdir / "run", self.port)
        self.parts = [self.part]
        self.mailbox = Mailbox(workdir / "mail")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


class Startable(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


Served = TypeVar("Served", bound=Startable)


def _running(component: Served, what: str) -> Iterator[Served]:
    """Start a broker, a database or a platform for a fixture, hand it over, and stop it afterwards.
    When it cannot start, what did start is stopped and the test is skipped (outside CI) as ``what``
    could not start."""
    try:
        component.start()
    except StackError as exc:
        component.stop()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{what} could not start here: {exc}")
    yield component
    component.stop()


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    yield from _running(LocalKafka(tmp_path_factory.mktemp("kafka")), "the local broker")


@pytest.fixture(scope="session")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMongo]:
    yield from _running(LocalMongo(tmp_path_factory.mktemp("mongo")), "the local database")


@pytest.fixture(scope="session")
def mail_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMail]:
    """A real SMTP server for the session: tests send to ``mail_sink.url`` and wait with
    ``await mail_sink.mailbox.wait_for(address)``."""
    yield from _running(LocalMail(tmp_path_factory.mktemp("mail")), "the local SMTP sink")


@pytest.fixture
def durable_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    yield from _running(LocalKafka(tmp_path / "kafka", durable=True), "the local broker")


@pytest.fixture
def durable_mongo(tmp_path: Path) -> Iterator[LocalMongo]:
    yield from _running(LocalMongo(tmp_path / "mongo", in_memory=False), "the local database")


def signer_for(private_key_pem: str, settings: ServiceSettings | None = None) -> TokenSigner:
    settings = settings or ServiceSettings()
    return TokenSigner(
        load_private_key(private_key_pem), [], issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )


TEST_SIGNER = signer_for(TEST_SIGNING_KEY)
TEST_JWKS = json.dumps(TEST_SIGNER.jwks())


def issue_token(
    settings: ServiceSettings | None, principal: Principal, ttl: timedelta, signer: TokenSigner = TEST_SIGNER
) -> str:
    """A token as the gateway would mint it, signed with the tests' key (or ``signer``); ``settings``
    is the service's (tests keep the default issuer and audience, so it only documents the target)."""
    return signer.issue(principal.username, principal.role.value, principal.scope, ttl, version=TEST_VERSION)


def make_settings(cls: type[ServiceSettings], kafka: LocalKafka, mongo: LocalMongo, **overrides: Any) -> Any:
    """Settings for a service under test: the harness's broker and database, a fresh db name, the
    tests' token key (services trust its public half; the gateway signs with it)."""
    values: dict[str, Any] = {
        "profile": "test",
        "kafka_bootstrap": kafka.bootstrap,
        "mongo_url": mongo.url,
        "mongo_db": unique("db").replace("-", "_"),
        "outbox_poll_interval_s": 0.05,
        "consumer_retry_backoff_s": 0.01,
        "log_level": "WARNING",
        "jwt_public_keys": TEST_JWKS,
        **FAST_KAFKA,
    }
    if "jwt_private_key" in cls.model_fields:
        values["jwt_private_key"] = TEST_SIGNING_KEY
        values.pop("jwt_public_keys")
    values.update(overrides)
    return cls(**values)


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    """Publish ``(key, value)`` messages with acks=all, standing in for a producer or a broker's redelivery."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


@pytest.fixture
def infra(kafka: LocalKafka, mongo: LocalMongo) -> tuple[LocalKafka, LocalMongo]:
    return kafka, mongo


async def running_app(app: Any, *, ready_timeout_s: float = 30.0) -> AsyncIterator[Any]:
    """Run an app's lifespan and wait until it is ready; yields an httpx client bound to it."""
    import httpx
    from asgi_lifespan import LifespanManager

    async with LifespanManager(app, startup_timeout=ready_timeout_s, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await asyncio.wait_for(app.state.runtime.ready.wait(), ready_timeout_s)
            yield client


class Platform:
    """The whole platform as real processes on free ports: broker, database, four services."""

    def __init__(self, workdir: Path, **env: str) -> None:
        """The default local configuration (as ``make run`` has it), on free ports, with ``env`` added."""
        names = [name for name, _ in SERVICES] + ["kafka", "mongo", "s3", "mail"]
        self.stack = Stack(
            data=workdir / "data",
            run=workdir / "run",
            external_kafka=None,
            external_mongo=None,
            ports={name: free_port() for name in names},
            extra_env={
                "PROFILE": "local",
                "DEMO_PASSWORD": "office-demo",
                "LOG_LEVEL": "INFO",
                "OUTBOX_POLL_INTERVAL_S": "0.1",
                "KAFKA_SESSION_TIMEOUT_MS": "1500",
                "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
                # every test reaches the gateway from one address: the per-address burst meant for one
                # person would count the whole suite's requests (the throttle has its own gateway tests)
                "REGISTRATION_BURST": "100",
                **env,
            },
        )
        self.components = {c.name: c for c in self.stack.components()}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.components[service].port}"

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    @property
    def kafka_bootstrap(self) -> str:
        return self.stack.kafka_bootstrap

    @property
    def mailbox(self) -> Mailbox:
        """What the platform mailed, as the local SMTP sink delivered it (``await mailbox.wait_for(address)``)."""
        return Mailbox(self.stack.mail_dir)

    def signer(self) -> TokenSigner:
        """The running gateway's own signing key, to mint tokens as it does."""
        return signer_for(self.stack.signing_key())

    def token(self, principal: Principal, ttl: timedelta = timedelta(minutes=30)) -> str:
        return issue_token(None, principal, ttl, self.signer())

    @property
    def mongo_url(self) -> str:
        return self.stack.mongo_url

    def start(self) -> None:
        """Start the infrastructure in order, then the four services side by side."""
        services = {name for name, _ in SERVICES}
        for component in self.components.values():
            if component.name not in services:
                component.ensure_started()
        with ThreadPoolExecutor(len(services)) as pool:
            for started in [pool.submit(c.ensure_started) for c in self.components.values() if c.name in services]:
                started.result()

    def start_one(self, name: str) -> None:
        """Start a component again, e.g. after :meth:`kill`."""
        start_again(self.components[name])

    def kill(self, name: str) -> None:
        self.components[name].process.kill()

    def stop(self) -> None:
        for component in reversed(list(self.components.values())):
            component.process.stop()


def wait_for_free_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not port_is_free(port) and time.monotonic() < deadline:
        time.sleep(0.1)


def start_again(component: Component, port_release_timeout_s: float = 10.0) -> None:
    """Start a component unless it runs; the sockets of a process killed a moment ago may hold
    its port for a short while (their connections are still closing), so wait for the port first."""
    if not component.process.running():
        wait_for_free_port(component.port, port_release_timeout_s)
    component.ensure_started()


def running_platform(workdir: Path, **env: str) -> Iterator[Platform]:
    """A started platform for a fixture to yield from (skips outside CI when it cannot start)."""
    yield from _running(Platform(workdir, **env), "the platform")


# Every user of the shared platform logs in from 127.0.0.1, dozens of them a minute when the suite
# runs fast; the per-address login limit itself is tested on a gateway of its own
# (services/gateway/tests), so here it is set to what a few hundred people behind one address need.
# A district's time series takes an area's moves at most once a minute by default (decision 12), and
# the browser journeys read the sample of a move they just made; the interval itself is tested in
# services/districts/tests, so here a move is sampled after a second.
SHARED_PLATFORM_ENV = {"LOGIN_RATE_PER_MINUTE": "600", "LOGIN_BURST": "200", "SAMPLE_EVERY_S": "1"}


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One running platform shared by the end-to-end tests of a session."""
    yield from running_platform(tmp_path_factory.mktemp("platform"), **SHARED_PLATFORM_ENV)


def load_service_bench(service: str) -> Any:
    """A service's ``services/<service>/bench.py``: a script beside its package, loaded by path."""
    import importlib.util

    from devkit.stack.components import ROOT

    spec = importlib.util.spec_from_file_location(f"{service}_bench", ROOT / "services" / service / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
