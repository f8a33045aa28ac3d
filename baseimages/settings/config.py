"""Project-wide settings, each declared once in SETTINGS: its key in `[tool.baseimages]` of
pyproject.toml, its BASEIMAGES_* environment variable, its CLI flag, its type and checks, its default and
one line of help. The pyproject reader, the environment reader, the CLI's flags, `Settings.with_overrides`
and the settings page docs/settings.md all follow it (scripts/docs renders it; a unit test holds it to SETTINGS).

A setting's value comes from the first of: its flag, its environment variable, pyproject.toml, detection
in the operator's environment (the CA bundle and the wheelhouse, see `offline`), its default.

Four inputs are not settings, because they must never be written into a file: the registry login
(BASEIMAGES_REGISTRY_USER and BASEIMAGES_REGISTRY_PASSWORD), the signing key's password
(BASEIMAGES_SIGN_PASSWORD), the notifications' bearer token (BASEIMAGES_NOTIFY_TOKEN) and the package
index URL, which may carry credentials (BASEIMAGES_INDEX_URL: only the variable's name is kept, and builds
get it as a secret).
None of the offline inputs ever reaches a build argument or a layer.
"""

from __future__ import annotations

import base64
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from . import offline
from .kinds import AnyPath, ExistingPath, OutputPath, PlatformList, PlatformMap, Switch, Text, WholeNumber
from .metrics_kinds import PushgatewayUrl
from .notify_kinds import NOTIFY_FORMAT, UrlList
from .schema import Setting, checked

INDEX_URL_ENV = "BASEIMAGES_INDEX_URL"
USER_ENV = "BASEIMAGES_REGISTRY_USER"
PASSWORD_ENV = "BASEIMAGES_REGISTRY_PASSWORD"
SIGN_PASSWORD_ENV = "BASEIMAGES_SIGN_PASSWORD"
NOTIFY_TOKEN_ENV = "BASEIMAGES_NOTIFY_TOKEN"

_REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]+)?$")
_NAMESPACE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_UPDATE_KINDS = Text(
    "security or any", "KIND", re.compile(r"^(?:security|any)$"), "is not one of: security, any", required=True
)
_REGISTRY_HOST = Text(
    "registry host[:port]",
    "HOST[:PORT]",
    _REGISTRY,
    "is not a registry host[:port], e.g. localhost:5000",
    rstrip="/",
    required=True,
)
_REPOSITORY_PATH = Text(
    "repository path",
    "PATH",
    _NAMESPACE,
    "is not a repository path (lowercase letters, digits, . _ - and /)",
    strip="/",
)
_PLATFORMS = PlatformList()
_SIZE = Text(
    "size (a number and B, kB, MB, GB or TB)",
    "SIZE",
    re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:[kKMGT]i?)?B$"),
    "is not a size such as 10GB or 512MB",
    strip=" ",
    required=True,
)
TABLES = ("retention",)  # sub-tables of [tool.baseimages]: their settings' keys are `table.key`
SETTINGS_TABLE_HEADER = "| key | environment variable | flag | type | default | meaning |"

# fmt: off
SETTINGS: tuple[Setting[Any], ...] = (
    Setting("registry", "BASEIMAGES_REGISTRY", "--registry", _REGISTRY_HOST, "localhost:5000",
            "where images are pushed"),
    Setting("namespace", "BASEIMAGES_NAMESPACE", "--namespace", _REPOSITORY_PATH, "baseimages",
            "repository path under the registry; empty for none"),
    Setting("platforms", "BASEIMAGES_PLATFORMS", None, _PLATFORMS, ("linux/amd64", "linux/arm64"),
            "the platforms of an image whose image.yaml names none"),
    Setting("builders", "BASEIMAGES_BUILDERS", "--builder", PlatformMap(), {},
            "the buildx builder (or Docker context) that builds a platform, e.g. `linux/arm64=arm-node`; "
            "[tool.baseimages.builders] table; an unmapped platform builds on the default builder"),
    Setting("images-dir", "BASEIMAGES_IMAGES_DIR", None, AnyPath(), Path("images"),
            "the catalog folder, relative to the project root"),
    Setting("source", "BASEIMAGES_SOURCE", None, Text(), "",
            "the images' org.opencontainers.image.source label; empty: the git remote's URL"),
    Setting("jobs", "BASEIMAGES_JOBS", "--jobs", WholeNumber(1), 2,
            "images built and tested at once (each holds its slot from its build to its last test)"),
    Setting("refresh-days", "BASEIMAGES_REFRESH_DAYS", "--refresh-days", WholeNumber(0), 30,
            "rebuild an unchanged image built more than this many days ago"),
    Setting("refresh-updates", "BASEIMAGES_REFRESH_UPDATES", "--refresh-updates", _UPDATE_KINDS, "security",
            "with `--refresh updates`: which installable updates rebuild an image: `security` (a package of a "
            "security suite) or `any` (any Debian package, and any Python distribution the image does not pin)"),
    Setting("retry-attempts", "BASEIMAGES_RETRY_ATTEMPTS", "--retry-attempts", WholeNumber(1), 8,
            "attempts per registry request"),
    Setting("retry-max-seconds", "BASEIMAGES_RETRY_MAX_SECONDS", "--retry-max-seconds", WholeNumber(1), 300,
            "seconds per registry request, waits between attempts included"),
    Setting("upload-jobs", "BASEIMAGES_UPLOAD_JOBS", "--upload-jobs", WholeNumber(1), 4,
            "blobs of one image uploaded at once, each request retried on its own"),
    Setting("build-cache", "BASEIMAGES_BUILD_CACHE", "--no-build-cache", Switch(flag_sets=False), True,
            "when pushing, each build reads and writes its BuildKit cache at `REPO:buildcache-<arch>` "
            "in the push registry (one ref per platform, `mode=max`)"),
    Setting("warm-up", "BASEIMAGES_WARM_UP", "--no-warm-up", Switch(flag_sets=False), True,
            "a child's build of a platform runs early, FROM its parent's output of that platform while the "
            "parent's other platforms still build (exporting nothing, when a job is free), so that its own "
            "build finds every step cached"),
    Setting("layer-compression-level", "BASEIMAGES_LAYER_COMPRESSION_LEVEL", "--layer-compression-level",
            WholeNumber(0, 9), 1,
            "gzip level of the layers a build makes: BuildKit compresses each one again when it sets its files' "
            "times to SOURCE_DATE_EPOCH (what makes rebuilds byte for byte), so 1 is the fastest, 9 the smallest "
            "(another level gives the layers of an image's next build other digests, with the same files)"),
    Setting("lock-dir", "BASEIMAGES_LOCK_DIR", "--lock-dir", AnyPath(), Path("~/.cache/baseimages/locks"),
            "where run locks live"),
    Setting("updates-state", "BASEIMAGES_UPDATES_STATE", "--updates-state", AnyPath("FILE"),
            Path("~/.cache/baseimages/updates-state.json"),
            "where `updates` records when each installable update was first seen (how long it has waited)"),
    Setting("layer-cache", "BASEIMAGES_LAYER_CACHE", "--layer-cache", AnyPath(), Path("~/.cache/baseimages/layers"),
            "where the facts a changelog read of each layer (packages, Python distributions, file signatures) "
            "are kept by layer digest, so that the next changelog does not read that layer again; files no run "
            "used for 30 days are removed"),
    Setting("wheelhouse", "BASEIMAGES_WHEELHOUSE", "--wheelhouse", ExistingPath(directory=True), None,
            "local wheels, given to builds as the `wheelhouse` build context", detect=offline.WHEELHOUSE),
    Setting("ca-bundle", "BASEIMAGES_CA_BUNDLE", "--ca-bundle", ExistingPath(directory=False), None,
            "CA certificates, given to builds as the `ca-bundle` secret", detect=offline.CA_BUNDLE),
    Setting("sign-key", "BASEIMAGES_SIGN_KEY", "--sign-key", ExistingPath(directory=False), None,
            "cosign private key that signs every pushed image and its test record; none: nothing is signed"),
    Setting("metrics-file", "BASEIMAGES_METRICS_FILE", "--metrics-file", OutputPath(directory=False), None,
            "write the run's metrics there (node_exporter textfile format, atomically)"),
    Setting("pushgateway", "BASEIMAGES_PUSHGATEWAY", "--pushgateway", PushgatewayUrl(), "",
            "push the run's metrics to this Prometheus Pushgateway, one group per image"),
    Setting("report-md", "BASEIMAGES_REPORT_MD", "--report-md", OutputPath(directory=False), None,
            "write the run's Markdown report there (it is also appended to `$GITHUB_STEP_SUMMARY` when set)"),
    Setting("report-html", "BASEIMAGES_REPORT_HTML", "--report-html", OutputPath(directory=False), None,
            "write the run's self-contained HTML page there: timeline, table, failures"),
    Setting("log-dir", "BASEIMAGES_LOG_DIR", "--log-dir", OutputPath(directory=True), None,
            "write each image's buildx log to `<image>.log` there"),
    Setting("notify-url", "BASEIMAGES_NOTIFY_URL", "--notify-url", UrlList(), (),
            "after an image promotes, POST a JSON notification to each URL (repeatable flag); a failed one is "
            "a warning and exit code 6, never an undone promotion"),
    Setting("notify-format", "BASEIMAGES_NOTIFY_FORMAT", "--notify-format", NOTIFY_FORMAT, "json",
            "the notification's body: `json`, or `github-dispatch` (a GitHub `repository_dispatch` event)"),
    # [tool.baseimages.retention]: what `prune` keeps (flags on `prune` only)
    Setting("retention.keep-dated", "BASEIMAGES_RETENTION_KEEP_DATED", "--keep-dated", WholeNumber(0), 6,
            "`prune` keeps the newest N dated immutable tags (X.Y.Z-YYYYMMDD.N) of each image"),
    Setting("retention.keep-dated-months", "BASEIMAGES_RETENTION_KEEP_DATED_MONTHS", "--keep-dated-months",
            WholeNumber(0), 6, "`prune` also keeps every dated tag of the last M months"),
    Setting("retention.keep-monthly-months", "BASEIMAGES_RETENTION_KEEP_MONTHLY_MONTHS", "--keep-monthly-months",
            WholeNumber(0), 12, "`prune` keeps the monthly YYYY.MM tags of the last K months, this one included"),
    Setting("retention.candidate-days", "BASEIMAGES_RETENTION_CANDIDATE_DAYS", "--candidate-days", WholeNumber(0), 7,
            "`prune` removes a candidate tag once its build promoted, or this many days after its build"),
    Setting("retention.keep-storage", "BASEIMAGES_RETENTION_KEEP_STORAGE", "--keep-storage", _SIZE, "10GB",
            "`prune --local` leaves this much BuildKit cache (`docker builder prune --keep-storage`)"),
)
# fmt: on
_BY_ATTR = {setting.attr: setting for setting in SETTINGS}


def _declared(attr: str) -> Any:
    """The Settings field of a declared setting: its default is the table's, checked (`~` expanded)."""
    return field(default_factory=_BY_ATTR[attr].default_value)


@dataclass(frozen=True)
class Credentials:
    """A registry login. Never shown: not in a repr, a log, a report or a command line."""

    username: str
    password: str

    def header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def __repr__(self) -> str:  # never show the password
        return f"Credentials(username={self.username!r}, password='***')"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs beyond the catalog. Immutable; use `with_overrides` to derive."""

    root: Path
    registry: str = _declared("registry")
    namespace: str = _declared("namespace")
    platforms: tuple[str, ...] = _declared("platforms")
    builders: dict[str, str] = _declared("builders")  # platform -> buildx builder (or Docker context)
    images_dir: Path = _declared("images_dir")
    source: str = _declared("source")
    jobs: int = _declared("jobs")
    refresh_days: int = _declared("refresh_days")
    refresh_updates: str = _declared("refresh_updates")
    retry_attempts: int = _declared("retry_attempts")  # per registry request
    retry_max_seconds: int = _declared("retry_max_seconds")  # per registry request, waits included
    upload_jobs: int = _declared("upload_jobs")  # blobs of one image uploaded at once
    build_cache: bool = _declared("build_cache")  # see baseimages.engine.build_cache
    warm_up: bool = _declared("warm_up")  # see baseimages.pipeline.stages.warm
    layer_compression_level: int = _declared("layer_compression_level")  # gzip level of the output's layers
    credentials: Credentials | None = field(default=None, repr=False)  # login for `registry`
    lock_dir: Path = _declared("lock_dir")
    updates_state: Path = _declared("updates_state")  # see baseimages.updates.store
    layer_cache: Path = _declared("layer_cache")  # see baseimages.changelog.facts_cache
    ca_bundle: Path | None = _declared("ca_bundle")
    wheelhouse: Path | None = _declared("wheelhouse")
    sign_key: Path | None = _declared("sign_key")
    sign_password: str | None = field(default=None, repr=False)  # the sign key's password (environment only)
    metrics_file: Path | None = _declared("metrics_file")  # see baseimages.outputs.metrics
    pushgateway: str = _declared("pushgateway")
    report_md: Path | None = _declared("report_md")  # see baseimages.outputs.files
    report_html: Path | None = _declared("report_html")
    log_dir: Path | None = _declared("log_dir")  # see baseimages.engine.build_logs
    notify_url: tuple[str, ...] = _declared("notify_url")  # see baseimages.outputs.notify
    notify_format: str = _declared("notify_format")
    notify_token: str | None = field(default=None, repr=False)  # sent as a bearer token (environment only)
    retention_keep_dated: int = _declared("retention_keep_dated")
    retention_keep_dated_months: int = _declared("retention_keep_dated_months")
    retention_keep_monthly_months: int = _declared("retention_keep_monthly_months")
    retention_candidate_days: int = _declared("retention_candidate_days")
    retention_keep_storage: str = _declared("retention_keep_storage")
    index_url_env: str | None = None  # name of the env var holding the index URL, passed as a secret
    base_mirrors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def catalog_dir(self) -> Path:
        return self.images_dir if self.images_dir.is_absolute() else self.root / self.images_dir

    def repository(self, image: str) -> str:
        parts = [p for p in (self.registry, self.namespace, image) if p]
        return "/".join(parts)

    def build_secrets(self) -> list[str]:
        """buildx --secret values: the CA bundle and the index URL; never build args, never in a layer."""
        secrets = []
        if self.ca_bundle is not None:
            secrets.append(f"id=ca-bundle,src={self.ca_bundle}")
        if self.index_url_env:
            secrets.append(f"id=index-url,env={self.index_url_env}")
        return secrets

    def build_contexts(self) -> dict[str, str]:
        """Named build contexts every build gets: the operator's wheelhouse, when there is one."""
        return {"wheelhouse": str(self.wheelhouse)} if self.wheelhouse else {}

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced; None values are ignored. The value of a declared
        setting passes the table's checks (else a ConfigError naming `settings` and the field)."""
        return replace(
            self,
            **{
                name: _BY_ATTR[name].check(value) if name in _BY_ATTR else value
                for name, value in changes.items()
                if value is not None
            },
        )


def load_settings(root: Path | str = ".", environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of the project at ROOT from the environment (ENVIRON, else os.environ),
    `[tool.baseimages]` of ROOT/pyproject.toml (optional), detection and the defaults.
    Flags are the caller's: `load_settings(root).with_overrides(...)`."""
    root = Path(root).resolve()
    env = os.environ if environ is None else environ
    pyproject = root / "pyproject.toml"
    table = _read_tool_table(pyproject)
    where = f"{pyproject} [tool.baseimages]"
    return Settings(
        root=root,
        **{setting.attr: _value(setting, table, where, env) for setting in SETTINGS},
        credentials=_credentials(env),
        sign_password=env.get(SIGN_PASSWORD_ENV),
        notify_token=env.get(NOTIFY_TOKEN_ENV) or None,
        index_url_env=INDEX_URL_ENV if env.get(INDEX_URL_ENV) else None,
        base_mirrors=offline.detect_registry_mirrors(),
    )


def parse_platforms(text: str, source: str, fieldname: str) -> tuple[str, ...]:
    """Comma-separated platforms (e.g. a `--platform` filter); a ConfigError names SOURCE and FIELDNAME."""
    return checked(_PLATFORMS.from_text, text, source, fieldname)


def settings_table_markdown() -> str:
    """The table of the settings (docs/settings.md), as SETTINGS declares them."""
    rows = [SETTINGS_TABLE_HEADER, "|---|---|---|---|---|---|"]
    rows += ["| " + " | ".join(setting.doc_row()) + " |" for setting in SETTINGS]
    return "\n".join(rows)


def _value(setting: Setting[Any], table: Mapping[str, Any], where: str, env: Mapping[str, str]) -> Any:
    """SETTING's value from the first place that sets it. Every place that names it is checked."""
    from_file = setting.from_toml(table[setting.key], where) if setting.key in table else None
    from_env = setting.from_env(env[setting.env]) if setting.env in env else None
    for value in (from_env, from_file):
        if value is not None:
            return value
    detected = setting.detect.find(env) if setting.detect is not None else None
    return detected if detected is not None else setting.default_value()


def _credentials(env: Mapping[str, str]) -> Credentials | None:
    user, password = env.get(USER_ENV), env.get(PASSWORD_ENV)
    if bool(user) != bool(password):
        raise ConfigError(
            "environment",
            USER_ENV if not user else PASSWORD_ENV,
            f"is missing: set both {USER_ENV} and {PASSWORD_ENV}, or neither",
        )
    return Credentials(user, password) if user and password else None


def _read_tool_table(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("baseimages", {})
    if not isinstance(table, dict):
        raise ConfigError(str(path), "tool.baseimages", "must be a table")
    flat = {key: value for key, value in table.items() if key not in TABLES}
    for name in TABLES:  # [tool.baseimages.retention] keep-dated = 3 is the setting `retention.keep-dated`
        sub = table.get(name, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"{path} [tool.baseimages]", name, "must be a table")
        flat |= {f"{name}.{key}": value for key, value in sub.items()}
    known = sorted(setting.key for setting in SETTINGS)
    unknown = sorted(set(flat) - set(known))
    if unknown:
        raise ConfigError(f"{path} [tool.baseimages]", unknown[0], f"unknown key (known: {', '.join(known)})")
    return flat
