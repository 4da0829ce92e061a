"""Terminal sessions on the pages (```console blocks): parsed into commands and the output the
page shows under each, and run in-process as a reader's shell would run them.

    ```console
    $ promptops-doctor --mock wrong-key
    PromptOps doctor: https://api.promptops.com (simulated API: --mock wrong-key)
    ...
    $ echo $?
    2
    ```

A command is one of the package's scripts (`promptops-<name>`, from `[project.scripts]`, or
`python -m snippets.<module>`), `echo $?`, `export NAME=value`, `unset NAME`, and any of them
after `NAME=value` assignments. Anything else belongs in a ```bash block, which is not run.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import shlex
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

from .docs_blocks import ROOT, Block

PROMPT = "$ "


@dataclass(frozen=True)
class Command:
    line: int  # 1-based, in the block's body
    text: str  # as typed, without the prompt
    shown: tuple[str, ...]  # the output the page shows under it


@dataclass
class Session:
    """What a session changes as it runs: its variables and the last exit code."""

    environ: dict[str, str] = field(default_factory=dict)
    unset: set[str] = field(default_factory=set)
    status: int = 0


class Unsupported(ValueError):
    """A command the harness does not run: it belongs in a ```bash block."""


def commands(block: Block) -> list[Command]:
    """The block's commands, each with the output lines shown under it."""
    found: list[Command] = []
    lines = block.body.rstrip("\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if line.startswith(PROMPT):
            found.append(Command(number, line[len(PROMPT) :], ()))
        elif found:
            last = found[-1]
            found[-1] = Command(last.line, last.text, (*last.shown, line))
        else:
            raise Unsupported(f"line {number} is output before any `$ ` command")
    if not found:
        raise Unsupported("a console block with no `$ ` command")
    return found


@cache
def scripts() -> dict[str, str]:
    """`promptops-doctor` -> `snippets.doctor:main`, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return dict(project["scripts"])


def is_check_tool(script: str) -> bool:
    """Whether `script` prints a report of checks (`run_check_tool`, `--json`, `--deadline`):
    its module has a `CHECKS` table, as every check tool has. Read from the module, so a new
    tool is registered in `[project.scripts]` alone."""
    module = scripts()[script].partition(":")[0]
    return hasattr(importlib.import_module(module), "CHECKS")


def unregistered(command: str) -> str:
    """What a page's `promptops-<tool>` that is not in `[project.scripts]` is missing: the
    line to add to pyproject.toml, where, for the page tool of that name if there is one."""
    pyproject = ROOT / "pyproject.toml"
    lines = pyproject.read_text("utf-8").splitlines()
    after = max(n for n, line in enumerate(lines, start=1) if line.startswith("promptops-"))
    tool = command.removeprefix("promptops-").replace("-", "_")
    found = sorted((ROOT / "snippets").glob(f"*/{tool}.py"))
    target = ".".join(found[0].relative_to(ROOT).with_suffix("").parts) if found else "..."
    return (
        f"{command!r} is not a script of this package: add it to [project.scripts] in "
        f'pyproject.toml, after line {after}:\n{command} = "{target}:main"'
    )


def _main(words: list[str]) -> tuple[Callable[[list[str]], int], list[str]]:
    """The `main(argv)` a command runs, and its arguments."""
    if words and words[0] in scripts():
        module, _, function = scripts()[words[0]].partition(":")
        return getattr(importlib.import_module(module), function), words[1:]
    if words[:2] == ["python", "-m"] and len(words) > 2:
        main = getattr(importlib.import_module(words[2]), "main", None)
        if main is None:  # a package: its __main__ runs `main` from the package
            raise Unsupported(f"python -m {words[2]}: the module has no main(argv)")
        return main, words[3:]
    if words and words[0].startswith("promptops-"):
        raise Unsupported(unregistered(words[0]))
    raise Unsupported(f"{shlex.join(words)!r} is not a command the harness runs")


def check_supported(command: Command) -> None:
    """Raise `Unsupported` unless the harness can run `command`."""
    words = shlex.split(command.text)
    assignments, words = _assignments(words)
    if words in (["echo", "$?"], []):
        return
    if words[0] in ("export", "unset"):
        return
    _main(words)


def _assignments(words: list[str]) -> tuple[dict[str, str], list[str]]:
    found = {}
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, _, value = words[0].partition("=")
        found[name] = value
        words = words[1:]
    return found, words


def run(command: Command, session: Session) -> list[str]:
    """Run one command as the reader's shell would, in-process; the lines it printed (stdout
    and stderr, in order)."""
    words = shlex.split(command.text.replace("$?", str(session.status)))
    assignments, words = _assignments(words)
    if not words:  # `NAME=value` alone sets a shell variable: kept for the session
        session.environ.update(assignments)
        return []
    if words[0] == "echo":
        session.status = 0
        return [" ".join(words[1:])]
    if words[0] == "export":
        more, _ = _assignments(words[1:])
        session.environ.update(more)
        session.unset.difference_update(more)
        session.status = 0
        return []
    if words[0] == "unset":
        for name in words[1:]:
            session.environ.pop(name, None)
            session.unset.add(name)
        session.status = 0
        return []
    main, argv = _main(words)
    output = io.StringIO()
    with (
        _environment({**session.environ, **assignments}, session.unset),
        contextlib.redirect_stdout(output),
        contextlib.redirect_stderr(output),
    ):
        try:
            session.status = main(argv)
        except SystemExit as exit_:  # argparse: --help, or a usage error
            code = exit_.code
            session.status = code if isinstance(code, int) else 0 if code is None else 1
    return output.getvalue().splitlines()


@contextlib.contextmanager
def _environment(values: Mapping[str, str], unset: set[str]) -> Iterator[None]:
    saved = dict(os.environ)
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
