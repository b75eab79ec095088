"""``conformance init``: start a user's own project: a profile, an empty known-gaps manifest, the config, a workflow.

The files are the user's from then on, committed in their repository beside their cassettes, reports and
baseline. Nothing that exists is overwritten: a second ``init`` names what is there and writes nothing.
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from importlib import resources
from pathlib import Path

from conformance import __version__
from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_OK
from conformance.output.console import make_console
from conformance.output.toml_text import toml_string
from conformance.run.config import CONFIG_FILE, PYPROJECT, TARGETS_FOLDER, config_table

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_ACTION = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*@[A-Za-z0-9_./-]+")

# The reusable GitHub Action of this project (action.yml at its repository's root); --action names another
# reference (a fork, a pinned commit).
DEFAULT_ACTION = f"openai-conformance/openai-conformance@v{__version__}"
WORKFLOW = Path(".github") / "workflows" / "conformance.yml"


def _template(name: str) -> str:
    return (resources.files("conformance") / "templates" / "init" / name).read_text(encoding="utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def profile_text(args: argparse.Namespace) -> tuple[str, str, str]:
    """(target name, key variable, the profile's TOML): a built-in target's profile, or one for --base-url."""
    from conformance.run.profiles import load_profile

    stamp = f"conformance init, openai-conformance {__version__}, {date.today().isoformat()}"
    if args.base_url:
        profile = load_profile(None, base_url=args.base_url, name=args.name, api_key_env=args.api_key_env,
                               chat_model=args.chat_model or "CHANGE-ME", embedding_model=args.embedding_model
                               or "CHANGE-ME")
        lines = [f"# Profile of {profile.name}, written by {stamp}.", "# Keys: see docs/targets.md of "
                 "openai-conformance; every run option can be set in conformance.toml too.", "[target]"]
        for key in ("name", "base_url", "api_key_env", "chat_model", "embedding_model"):
            lines.append(f"{key} = {toml_string(getattr(profile, key))}")
        lines.append(f"description = {toml_string(f'the OpenAI-compatible server at {profile.base_url}')}")
        lines.append('# auth = "bearer"            # or "header:NAME", "query:NAME"')
        lines.append("# rpm = 10                     # requests per minute your key allows (paces live runs)")
        return profile.name, profile.api_key_env, "\n".join(lines) + "\n"
    target = args.target or "gemini"
    resource = resources.files("conformance.targets").joinpath(f"{target}.toml")
    if not resource.is_file():
        from conformance.targets import builtin_targets

        raise UsageError(f"unknown target {target!r}: use one of {', '.join(builtin_targets())}, or --base-url")
    profile = load_profile(target)
    text = resource.read_text(encoding="utf-8")
    if args.name and args.name != profile.name:
        text = text.replace(f'name = "{profile.name}"', f'name = "{args.name}"', 1)
        profile = load_profile(target, name=args.name)
    header = f"# Copied from the built-in target {target} by {stamp}: yours to edit.\n"
    return profile.name, profile.api_key_env, header + text


def _check_values(args: argparse.Namespace) -> None:
    """What goes into YAML and TOML unquoted (the workflow's secret name, the action reference) must be what it
    says: anything else is refused, never written into a file that would not parse or would say something else."""
    if args.api_key_env and not _VARIABLE.fullmatch(args.api_key_env):
        raise UsageError(f"--api-key-env must be an environment variable name (letters, digits, _), not "
                         f"{args.api_key_env!r}")
    if args.action and not _ACTION.fullmatch(args.action):
        raise UsageError(f"--action must look like OWNER/REPO@REF, not {args.action!r}")
    for option in ("chat_model", "embedding_model", "base_url"):
        value = getattr(args, option, None)
        if value and any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise UsageError(f"--{option.replace('_', '-')} holds a control character (a newline?): {value!r}")


def planned_files(args: argparse.Namespace, root: Path) -> dict[Path, str]:
    _check_values(args)
    name, key_env, profile = profile_text(args)
    builtin_gaps = resources.files("conformance.targets").joinpath(f"{args.target or 'gemini'}.gaps.toml")
    extends = (f'# The gaps publicly reported for the built-in target {args.target or "gemini"} stay known; delete '
               f'this line to have them judged.\nextends = "{args.target or "gemini"}"\n'
               if not args.base_url and builtin_gaps.is_file() else "")
    values = {"NAME": name, "KEY_ENV": key_env, "ACTION": args.action or DEFAULT_ACTION, "EXTENDS": extends}
    files = {
        root / TARGETS_FOLDER / f"{name}.toml": profile,
        root / TARGETS_FOLDER / f"{name}.gaps.toml": _fill(_template("gaps.toml"), values),
        root / CONFIG_FILE: _fill(_template("conformance.toml"), values),
    }
    if not args.no_workflow:
        files[root / WORKFLOW] = _fill(_template("workflow.yml"), values)
    return files


def command_init(args: argparse.Namespace) -> int:
    from conformance.output import atomic

    root = Path(args.dir or ".").resolve()
    files = planned_files(args, root)
    existing = [p for p in files if p.exists()]
    pyproject = root / PYPROJECT
    if pyproject.is_file() and config_table(pyproject) is not None:
        existing.append(pyproject)
    if existing:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        raise UsageError(f"not overwriting what exists: {names} (move it away, or edit it by hand)")
    atomic.write_all(files)
    err = make_console(stderr=True)
    for path in files:
        err.print(f"wrote {path.relative_to(root)}", markup=False)
    name = next(iter(files)).stem
    err.print(f"next: set the key, record a first run and commit it (its report is the baseline; every replay "
              f"writes it again byte for byte):\n"
              f"  conformance run --record-mode once        # live: cassettes/{name}/ and reports/{name}/\n"
              f"  git add {CONFIG_FILE} {TARGETS_FOLDER} cassettes reports .github && git commit\n"
              f"  conformance run                           # offline replay, from then on", markup=False)
    return EXIT_OK
