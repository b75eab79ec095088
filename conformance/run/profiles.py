"""Target profiles: where a server lives, which key and models to use, and how it is labelled in reports.

Built-in targets ship as TOML files in ``conformance/targets``; any other server is a TOML file of the same shape
or a ``--base-url`` with overrides.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.model.errors import UsageError
from conformance.run.config import load_project
from conformance.targets import builtin_targets

TARGETS_PACKAGE = "conformance.targets"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str
    api_key_env: str
    chat_model: str
    embedding_model: str
    embedding_size: int | None = None
    # A separate server for the embeddings endpoint (vLLM serves one model per process); "" = base_url. The same
    # key goes to both.
    embedding_base_url: str = ""
    image_model: str = ""  # the image-generation model (images/generations); without one, the chat model
    # The model the Responses API cases ask for, where the target serves that API under another name (a gateway's
    # deployment that bridges it); without one, the chat model.
    responses_model: str = ""
    docs: str = ""
    description: str = ""
    # How the key travels: "bearer" (Authorization header), "header:NAME" (e.g. header:x-goog-api-key) or
    # "query:NAME" (e.g. query:key, as Google's own examples do).
    auth: str = "bearer"
    # The pace a live run keeps unless --rpm says otherwise: the requests per minute the target's entry-level key
    # allows (rpm_source says where that figure comes from).
    rpm: float | None = None
    rpm_source: str = ""
    # The requests per day the same key allows (a live run that would send more stops before its first request).
    rpd: int | None = None
    rpd_source: str = ""
    # The target whose known-gaps manifest applies, when this one shares it (a variant of the same server).
    gaps_of: str = ""
    # The catalogue tier its committed cassettes hold ("core" or "full"): what a replay runs by default.
    catalogue: str = ""
    # Where the models come from and when that was last checked (the documentation's examples change).
    models_source: str = ""
    models_checked: str = ""
    # What the target's documentation allows per model, for the documentation oracle (docs.rejected): a request
    # parameter -> {model glob -> the values documented for models matching it}. A value the page documents only
    # for other models is no broken promise when this model refuses it. (documented_source and documented_checked
    # say where and when.)
    documented: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    documented_source: str = ""
    documented_checked: str = ""
    # A command that prints the key when the variable is not set (e.g. "gcloud auth print-access-token" for
    # Vertex AI's short-lived OAuth tokens). Run only for a live run; its output is kept in memory only.
    api_key_command: str = ""
    source: str = ""
    # The options given on the command line over the profile's values (name, value): a command the suite prints
    # for the user to paste names the same server (see selector).
    given: tuple[tuple[str, str], ...] = ()

    def documents(self, param: str, value: Any, model: str | None = None) -> bool | None:
        """Whether the documentation promises ``param: value`` for the chat model (or ``model``): True or False
        where the profile says, None where it says nothing of the parameter (the case's own claim then stands)."""
        from fnmatch import fnmatchcase

        table = self.documented.get(param)
        if not table:
            return None
        model = model or self.chat_model
        for pattern, values in table.items():
            if fnmatchcase(model, pattern):
                return value in values
        return False

    def selector(self) -> list[str]:
        """The options that name this target again on a command line: its name for a built-in or project target,
        its file for a profile given as a path, its base URL and models for an ad-hoc one."""
        if self.source == "command line":
            return ["--base-url", self.base_url, "--name", self.name, "--api-key-env", self.api_key_env,
                    *(["--chat-model", self.chat_model] if self.chat_model else []),
                    *(["--embedding-model", self.embedding_model] if self.embedding_model else []),
                    *(["--embedding-base-url", self.embedding_base_url] if self.embedding_base_url else [])]
        named = self.source.startswith(("built-in target ", "project target "))
        given = [part for key, value in self.given for part in ("--" + key.replace("_", "-"), value)]
        return ["--target", self.name if named else self.source, *given]

    def base_url_for(self, endpoint: str) -> str:
        """The server a request to ``endpoint`` goes to: the one its operation names (conformance.api)."""
        from conformance.api import operation_for

        try:
            server = operation_for(endpoint)[0].server
        except ValueError:
            server = "base"  # a path no operation declares (a method-dependent one): the main server
        return self.server_url(server)

    def server_url(self, server: str) -> str:
        """The base URL of one of this profile's servers: "embeddings" has its own where the target has one."""
        return (self.embedding_base_url or self.base_url) if server == "embeddings" else self.base_url

    @property
    def base_urls(self) -> list[str]:
        """Every server the target's requests go to (one, or a second for embeddings)."""
        return [self.base_url] + ([self.embedding_base_url] if self.embedding_base_url else [])

    @property
    def gaps_target(self) -> str:
        """Whose built-in known-gaps manifest applies: its own, or the one it shares (``gaps_of``)."""
        return self.gaps_of or self.name

    def api_key(self) -> str | None:
        value = os.environ.get(self.api_key_env, "").strip()
        if value:
            _check_key_text(value, f"the key in {self.api_key_env}")
        return value or None

    def key_available(self) -> bool:
        """Whether a live run would have a key, without running the key command (a dry run sends nothing): the
        variable is set, or the command's program is installed."""
        import shlex
        import shutil

        if self.api_key():
            return True
        try:
            program = shlex.split(self.api_key_command)[:1]
        except ValueError:
            return False
        return bool(program) and shutil.which(program[0]) is not None

    def fetch_key(self) -> str | None:
        """The key from the variable, else (when the profile names one) from its command, kept in this process
        only: exported to the variable so that every worker and surface of the run reads the same one."""
        key = self.api_key()
        if key or not self.api_key_command:
            return key
        import shlex
        import subprocess

        try:
            done = subprocess.run(shlex.split(self.api_key_command), capture_output=True, text=True, timeout=60,
                                  errors="replace")
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            raise UsageError(f"the key command of {self.name} ({self.api_key_command.split()[0]}) failed: "
                             f"{type(exc).__name__}; set {self.api_key_env} instead") from None
        token = done.stdout.strip()
        if token:
            _check_key_text(token, f"the token the key command of {self.name} printed")
        if done.returncode != 0 or not token:
            raise UsageError(f"the key command of {self.name} ({self.api_key_command.split()[0]}) exited "
                             f"{done.returncode} without a token; set {self.api_key_env} instead")
        os.environ[self.api_key_env] = token
        return token

    def auth_headers(self, key: str) -> dict[str, str]:
        """The headers that carry ``key`` the way this target expects it."""
        kind, _, name = self.auth.partition(":")
        if kind == "header":
            return {name: key}
        return {"Authorization": f"Bearer {key}"} if kind == "bearer" else {}

    def auth_query(self, key: str) -> dict[str, str]:
        kind, _, name = self.auth.partition(":")
        return {name: key} if kind == "query" else {}

    def public(self) -> dict[str, Any]:
        """What a report may say about the target (never the key, only the variable's name)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "", ()) and k != "given"}


def _check_key_text(key: str, what: str) -> None:
    """A key is one printable token: one with a newline, a NUL or another control character cannot travel in a
    header (it would be printed raw, or split a line) and is refused without being shown."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F or not c.isprintable() for c in key):
        raise UsageError(f"{what} holds a space, a line break or a control character ({len(key)} characters; not "
                         "shown): give the key alone, on one line")


def load_profile(target: str | None = None, **overrides: Any) -> Profile:
    """Resolve ``target`` (a built-in name or a TOML path) and apply non-empty overrides."""
    overrides = {k: v for k, v in overrides.items() if v not in (None, "")}
    if target is None and "base_url" in overrides:
        data: dict[str, Any] = {"name": adhoc_name(overrides["base_url"]), "api_key_env": "OPENAI_API_KEY",
                                "chat_model": "", "embedding_model": ""}
        source = "command line"
    else:
        data, source = _read_target(target or "gemini")
        if "base_url" in overrides and overrides["base_url"] != data.get("base_url"):
            # Another server than the profile's: what the profile says about its own server (its description,
            # documentation) does not describe this one. Its key's limits (rpm, rpd) and known gaps still apply:
            # the same key through a gateway, or the same server software on another port (a reference server
            # in CI), is the common case.
            for key in ("description", "docs"):
                data.pop(key, None)
            data["description"] = f"the server at {overrides['base_url']}, run with the settings of {source}"
    data.update(overrides)
    for key in ("base_url", "embedding_base_url"):
        if isinstance(data.get(key), str) and "${" in data[key]:
            data[key] = _expand(data[key], source)
    profile = _build(data, source)
    given = tuple((k, str(v)) for k, v in overrides.items() if source != "command line" and isinstance(v, str))
    return replace(profile, given=given)


def _expand(url: str, source: str) -> str:
    """``${NAME}`` in a profile's base URL from the environment (Vertex AI's project and location)."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = os.environ.get(name, "").strip()
        if not found:
            raise UsageError(f"{source}: the base URL needs {name}: set it in the environment (e.g. export "
                             f"{name}=...)")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", found):
            raise UsageError(f"{source}: {name} may hold letters, digits, '.', '_' and '-' only")
        return found

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", value, url)


def adhoc_name(base_url: str) -> str:
    """A folder name for a server given only by its URL: host and port, so two servers never share cassettes."""
    parts = urlsplit(base_url)
    host = parts.hostname or "server"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{host}-{port}").strip("-.") or "server"
    return name if _NAME.match(name) else f"server-{name}"


def _read_target(target: str) -> tuple[dict[str, Any], str]:
    if target.endswith(".toml") or os.sep in target:
        path = Path(target)
        if not path.is_file():
            choices = ", ".join(builtin_targets())
            raise UsageError(f"profile file {target} not found: give a built-in target ({choices}) "
                             "or an existing .toml file")
        text, source = _read_text(path), str(path)
    elif (own := _project_profile(target)) is not None:
        text, source = _read_text(own), f"project target {target} ({own.name} in {own.parent.name}/)"
    else:
        resource = resources.files(TARGETS_PACKAGE).joinpath(f"{target}.toml")
        if not resource.is_file():
            raise UsageError(f"unknown target {target!r}: use one of {', '.join(builtin_targets())}, "
                             "a profile .toml file, or --base-url")
        text, source = resource.read_text(encoding="utf-8"), f"built-in target {target}"
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source} is not valid TOML ({exc}): fix the file") from None
    table = document.get("target")
    if not isinstance(table, dict):
        raise UsageError(f"{source} has no [target] table: see conformance/targets/openai.toml for the shape")
    return dict(table), source


def _project_profile(target: str) -> Path | None:
    """A project's own profile by name (``targets/<name>.toml`` under its root), which beats a built-in one."""
    return load_project().project_profile(target) if _NAME.match(target) else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read profile {path}: {exc}") from None


def _build(data: dict[str, Any], source: str) -> Profile:
    known = set(Profile.__dataclass_fields__) - {"source", "given"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UsageError(f"{source}: unknown profile key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    for key in ("name", "base_url", "api_key_env", "chat_model", "embedding_model"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise UsageError(f"{source}: '{key}' must be a non-empty string (set it in the profile or with "
                             f"--{key.replace('_', '-')})")
    if not _NAME.match(data["name"]):
        raise UsageError(f"{source}: target name {data['name']!r} may use letters, digits, '.', '_' and '-' only")
    if data.get("catalogue", "core") not in ("core", "full"):
        raise UsageError(f"{source}: catalogue must be 'core' or 'full'")
    rpm = data.get("rpm")
    if rpm is not None and (isinstance(rpm, bool) or not isinstance(rpm, int | float) or rpm <= 0):
        raise UsageError(f"{source}: rpm must be a positive number of requests per minute")
    rpd = data.get("rpd")
    if rpd is not None and (isinstance(rpd, bool) or not isinstance(rpd, int) or rpd <= 0):
        raise UsageError(f"{source}: rpd must be a positive whole number of requests per day")
    size = data.get("embedding_size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
        raise UsageError(f"{source}: embedding_size must be a positive integer")
    check_base_url(data["base_url"])
    if data.get("embedding_base_url"):
        if not isinstance(data["embedding_base_url"], str):
            raise UsageError(f"{source}: embedding_base_url must be a URL string")
        check_base_url(data["embedding_base_url"])
    documented = data.get("documented", {})
    if not isinstance(documented, dict) or not all(
            isinstance(t, dict) and all(isinstance(v, list) for v in t.values()) for t in documented.values()):
        raise UsageError(f"{source}: documented must be tables of parameter -> {{model glob = [values]}}")
    auth = data.get("auth", "bearer")
    kind, _, name = str(auth).partition(":")
    if not (auth == "bearer" or (kind in ("header", "query") and name)):
        raise UsageError(f"{source}: auth must be 'bearer', 'header:NAME' or 'query:NAME', not {auth!r}")
    return replace(Profile(**data), source=source)


def check_base_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        shown = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
        raise UsageError(f"base URL {shown} carries a user name or password: the suite never writes or prints "
                         "credentials, so give the key in the variable the profile names (api_key_env; auth = "
                         "'bearer', 'header:NAME' or 'query:NAME')")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"base URL {url!r} needs a scheme and a host, e.g. https://api.openai.com/v1/")
