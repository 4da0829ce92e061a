"""ARCHITECTURE.md's recipes for a page and a tool ("Where to add things"), followed in a copy of
the repository: made as written, the checks pass; with any one step left out, they fail naming
the file of that step.

The recipe here is fixed, a page `webhooks` showing a script `promptops-verify-signature`, and a
test holds it to the document: the files the document's two recipes name are the files these
steps touch. The copy holds the repository's tracked files as they are in the working tree; the
checks run in it with this interpreter (no install): the docs map, the page folders' checks,
the terminal sessions, the scripts' command lines, the new test module, ruff. Not the strict
build (a minute): the map names a page missing from the nav at once.

About 10 s a run, ten runs: `nox -s copied` runs them (marker `recipe`); `nox -s docs` checks
only that the steps and the document name the same files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .docs_blocks import ROOT

NAMES = {"<page>": "webhooks", "<folder>": "webhooks", "<tool>": "verify_signature"}
SCRIPT = "promptops-verify-signature"
RUN_BOUND = 300  # seconds a check may take in the copy before the test fails

PAGE = f"""# Webhooks

Every webhook delivery answered with 401: the handler checks a signature against
a body that is no longer the one PromptOps signed (a framework parsed it and
wrote it back), or with the wrong secret.

## Verify the raw body

Verify the bytes as they arrived, before parsing them:

```python {{title="snippets/webhooks/verify_signature.py"}}
--8<-- "snippets/webhooks/verify_signature.py"
```

```console
$ {SCRIPT} --mock
signed body: True
body changed in transit: False
```
"""

TOOL = '''"""Webhook signature: the HMAC-SHA256 of the raw body, keyed with the
webhook secret, compared in constant time.

    promptops-verify-signature
    promptops-verify-signature --mock  # the mock API this package bundles
"""

from __future__ import annotations

import hashlib
import hmac
import sys

from snippets.cli import run_script

SECRET = b"whsec_example"
BODY = b'{"event": "prompt.updated", "prompt_id": "hello-world"}'


def sign(body: bytes, secret: bytes = SECRET) -> str:
    """The signature sent with a delivery: `v1=<hex HMAC-SHA256 of body>`."""
    return "v1=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str, secret: bytes = SECRET) -> bool:
    """Whether `signature` is the body's, compared in constant time."""
    return hmac.compare_digest(sign(body, secret), signature)


async def demo() -> int:
    signature = sign(BODY)
    print(f"signed body: {verify(BODY, signature)}")
    print(f"body changed in transit: {verify(BODY + b' ', signature)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_script("verify-signature", demo, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
'''

TEST = '''"""The webhook signature check (snippets/webhooks/verify_signature.py)."""

from __future__ import annotations

import pytest

from snippets.webhooks.verify_signature import BODY, main, sign, verify


def test_a_signed_body_verifies_and_a_changed_one_does_not() -> None:
    assert verify(BODY, sign(BODY))
    assert not verify(BODY + b" ", sign(BODY))
    assert not verify(BODY, sign(BODY, b"another secret"))


def test_the_script_shows_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mock"]) == 0
    assert capsys.readouterr().out == "signed body: True\\nbody changed in transit: False\\n"
'''

RUFF_TOML = 'extend = "../../pyproject.toml"\nline-length = 79\n'


def _write(relative: str, text: str) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return write


def _add_to_nav(root: Path) -> None:
    path = root / "mkdocs.yml"
    text = path.read_text("utf-8")
    assert "  - FAQ: faq.md\n" in text
    added = text.replace("  - FAQ: faq.md\n", "  - FAQ: faq.md\n  - Webhooks: webhooks.md\n")
    path.write_text(added, encoding="utf-8")


def _add_to_contracts(root: Path) -> None:
    """`snippets.webhooks` wherever the import-linter contracts list the pages' packages: in
    the pages' layer (`"a | b"`), or after a list's `"snippets.index",`."""
    path = root / "pyproject.toml"
    lines = []
    for line in path.read_text("utf-8").splitlines(keepends=True):
        if '"snippets.index |' in line:
            line = re.sub(r'"(,?)\n$', r' | snippets.webhooks"\1\n', line)
        lines.append(line)
        if line.strip() == '"snippets.index",':
            lines.append(line.replace("snippets.index", "snippets.webhooks"))
    path.write_text("".join(lines), encoding="utf-8")


def _add_script(root: Path) -> None:
    path = root / "pyproject.toml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    last = max(n for n, line in enumerate(lines) if line.startswith("promptops-"))
    lines.insert(last + 1, f'{SCRIPT} = "snippets.webhooks.verify_signature:main"\n')
    path.write_text("".join(lines), encoding="utf-8")


def _quiet(root: Path) -> None:
    """The script signs and compares bytes: it shows nothing a server says."""
    path = root / "tests/test_no_traceback.py"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    end = lines.index("}\n", lines.index("QUIET_ABOUT_THE_SERVER = {\n"))
    lines.insert(end, f'    "{SCRIPT}": "checks a signature: nothing from a server",\n')
    path.write_text("".join(lines), encoding="utf-8")


def _generate(root: Path) -> None:
    """`nox -s generate`, in the copy."""
    run([sys.executable, "-m", "snippets.generate"], root, check=True)


@dataclass(frozen=True)
class Step:
    name: str
    files: tuple[str, ...]
    """What it touches, as ARCHITECTURE.md names it (`<page>`, `<folder>`, `<tool>`)."""
    apply: Callable[[Path], None]

    def named(self) -> tuple[str, ...]:
        return tuple(_fill(file) for file in self.files)


def _fill(file: str) -> str:
    for placeholder, name in NAMES.items():
        file = file.replace(placeholder, name)
    return file


def writes(name: str, file: str, text: str) -> Step:
    """The step that writes `file` (as the document names it) with `text`."""
    return Step(name, (file,), _write(_fill(file), text))


PAGE_STEPS = (
    writes("page", "docs/<page>.md", PAGE),
    Step("nav line", ("mkdocs.yml",), _add_to_nav),
)
TOOL_STEPS = (
    writes("tool", "snippets/<folder>/<tool>.py", TOOL),
    writes("test", "tests/<folder>/test_<tool>.py", TEST),
    writes("package", "snippets/<folder>/__init__.py", ""),
    writes("test package", "tests/<folder>/__init__.py", ""),
    writes("line length", "snippets/<folder>/ruff.toml", RUFF_TOML),
    Step("layer", ("pyproject.toml",), _add_to_contracts),
    Step("script", ("pyproject.toml",), _add_script),
    Step("quiet script", ("tests/test_no_traceback.py",), _quiet),
    Step("generate", ("docs/includes/install.md", "README.md"), _generate),
)
STEPS = PAGE_STEPS + TOOL_STEPS
# The page and its tool are what the recipe makes: left out, there is nothing to check. Every
# other step left out must fail the checks.
MAY_NOT_BE_LEFT_OUT = ("page", "tool")

# Files the document's page and tool recipes name that no step of this one touches, and why.
NAMED_BUT_NOT_TOUCHED = {
    "hooks/llms_txt_from_nav.py": "says where llms.txt's list of pages comes from",
}


def recipe_files(architecture: str) -> set[str]:
    """The files ARCHITECTURE.md's "A page" and "A tool a page shows" recipes name."""
    section = architecture.split("\n## Where to add things\n", 1)[1].split("\n## ", 1)[0]
    recipes = [
        bullet
        for bullet in re.split(r"^- ", section, flags=re.M)
        if bullet.startswith(("**A page**", "**A tool a page shows**"))
    ]
    assert len(recipes) == 2, "ARCHITECTURE.md: Where to add things has no page or tool recipe"
    return set(re.findall(r"`([\w<>/.-]+\.(?:md|py|toml|yml))`", "".join(recipes)))


def test_the_document_names_the_files_these_steps_touch() -> None:
    named = recipe_files((ROOT / "ARCHITECTURE.md").read_text("utf-8"))
    touched = {file for step in STEPS for file in step.files}
    assert named - touched == set(NAMED_BUT_NOT_TOUCHED), "named by the document, not here"
    assert touched - named == set(), "touched here, not named by the document"


def run(command: list[str], cwd: Path, *, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`command` in `cwd`, within RUN_BOUND seconds, without this pytest's settings."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOCS_SITE"))}
    done = subprocess.run(
        command,
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=RUN_BOUND,
        check=False,
    )
    if check and done.returncode:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def checks(root: Path) -> list[tuple[str, subprocess.CompletedProcess[str]]]:
    """What would catch a step left out, run in `root`: each command and how it went."""
    new = ("snippets/webhooks", "tests/webhooks")
    pytest_run = (
        *(sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider"),
        *("tests/test_docs_map.py", "tests/test_docs_lint.py", "tests/test_console.py"),
        *("tests/test_cli.py", "tests/test_no_traceback.py", "tests/webhooks"),
        # The maps whole; of the tests of every page and script, the new page's and script's.
        *("-k", "test_docs_map or test_docs_lint or webhooks or verify-signature"),
    )
    return [
        ("pytest", run([*pytest_run], root)),
        ("ruff check", run([sys.executable, "-m", "ruff", "check", *new], root)),
        ("ruff format", run([sys.executable, "-m", "ruff", "format", "--check", *new], root)),
    ]


def failures(ran: list[tuple[str, subprocess.CompletedProcess[str]]]) -> str:
    """What the failed checks said: pytest's assertion lines and errors, ruff's findings."""
    said = []
    for name, done in ran:
        if done.returncode:
            output = done.stdout + done.stderr
            lines = [
                line for line in output.splitlines() if re.match(r"^(E |ERROR|[\w/]+\.py:)", line)
            ]
            said.append(f"{name}:\n" + "\n".join(lines or output.splitlines()[-20:]))
    return "\n".join(said)


def copy_of_the_repository(into: Path) -> Path:
    """The repository's tracked files, as the working tree has them, in `into`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, into / name)
    return into


@pytest.mark.recipe
@pytest.mark.parametrize(
    "left_out",
    [None, *(step.name for step in STEPS if step.name not in MAY_NOT_BE_LEFT_OUT)],
    ids=lambda name: f"without the {name}" if name else "every step",
)
def test_the_recipe_passes_the_checks_and_each_step_left_out_is_named(
    left_out: str | None, tmp_path: Path
) -> None:
    root = copy_of_the_repository(tmp_path / "repository")
    for step in STEPS:
        if step.name != left_out:
            step.apply(root)
    said = failures(checks(root))
    if left_out is None:
        assert not said, f"the recipe as ARCHITECTURE.md gives it fails:\n{said}"
        return
    (step,) = [s for s in STEPS if s.name == left_out]
    assert said, f"nothing fails without the {left_out} step"
    assert any(file in said for file in step.named()), (
        f"without the {left_out} step the checks fail, but name none of {step.named()}:\n{said}"
    )
