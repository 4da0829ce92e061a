"""Write the docs' generated content from its single source in code.

    python -m snippets.generate           # rewrite it
    python -m snippets.generate --check   # exit 1 if any is out of date

- `docs/includes/error-matrix.md`, from the client's error catalog;
- `docs/includes/install.md` and the README's install section, from `pyproject.toml` (the
  package name, the Pythons it supports, where to get it, its scripts and what each does);
- `docs/includes/doctor-checks.md` and `mock-scenarios.md`, from the doctor's table of
  checks (`snippets.doctor.CHECKS`) and the scenarios (`snippets.scenarios`);
- `docs/includes/exit-codes.md`, from `snippets.checks.EXIT_CODES`;
- the rules of `docs/reference/api-contract.md`, from the OpenAPI document's `x-promptops`
  (what the schema language cannot say: the order of checks, each error's message, ids,
  templates, the key, signing, read-only operations, the example prompts), and the messages
  of each error code in its section of `docs/api-errors.md`.

A test runs the check, so a change to a source without a regeneration fails CI.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import tomllib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from snippets.client.errors import error_matrix_markdown

ROOT = Path(__file__).resolve().parent.parent


def install_markdown() -> str:
    """How a reader installs the package and runs its scripts, from `pyproject.toml`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    versions = [c.rsplit(" :: ", 1)[1] for c in project["classifiers"] if " :: Python :: 3." in c]
    source = project["urls"]["Source"]
    rows = []
    for script, target in project["scripts"].items():
        module = target.split(":")[0]
        docstring = importlib.import_module(module).__doc__ or ""
        summary = " ".join(docstring.strip().split("\n\n")[0].split())  # its first paragraph
        what = summary.split(": ", 1)[-1]
        rows.append(f"| `{script}` | {what[:1].upper()}{what[1:]} |")
    return "\n".join(
        [
            f"The client, the mock API and the diagnostic scripts of this guide are one package,"
            f" `{project['name']}`, for Python {versions[0]} to {versions[-1]}. Install it into"
            " a virtual environment (Debian and Ubuntu refuse `pip install` outside one; if"
            " `python3 -m venv` is missing, `sudo apt install python3-venv`):",
            "",
            "```bash",
            "python3 -m venv .venv && . .venv/bin/activate",
            f'python -m pip install "git+{source}"',
            "promptops-doctor --mock",
            "```",
            "",
            f"Or download the wheel attached to a [release]({source}/releases) and install that"
            " file the same way. The package imports as `snippets`. Each script runs against"
            " the API in `PROMPTOPS_BASE_URL` (default `https://api.promptops.com`) with the key"
            " in `PROMPTOPS_API_KEY`; add `--mock` to try it against the mock API it bundles,"
            " with no account and no network:",
            "",
            "| Script | What it does |",
            "|---|---|",
            *rows,
            "",
            "Each script is also a module of the package: `promptops-health-check` is"
            " `python -m snippets.index.health_check`, as the pages show.",
            "",
        ]
    )


def _page_titles() -> dict[str, str]:
    """`{"common-issues": "Common issues", ...}`, from the site's navigation in mkdocs.yml."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return {m[2]: m[1] for m in re.finditer(r"^ +- ([^:\n]+): ([\w/-]+)\.md$", nav, re.M)}


_DEFAULT_API = {"host": "api.promptops.com", "port": 443, "proxy_variable": "HTTPS_PROXY"}
"""How a fix line reads for the default base URL."""


def doctor_checks_markdown() -> str:
    """The doctor's checks for its reference page, one heading each (the anchor the pages
    link back to), from the table the doctor runs."""
    from snippets.doctor import CHECKS

    titles = {check.id: check.title for check in CHECKS}
    pages = _page_titles()
    lines = []
    for check in CHECKS:
        page, anchor = check.section.split("/#")
        needs = ", ".join(f"[{titles[need]}](#check-{need})" for need in check.needs)
        lines += [
            f"### {check.title} {{#check-{check.id}}}",
            "",
            check.what,
            "",
            f"- **id:** `{check.id}`",
            f"- **Needs:** {needs or 'nothing: it always runs'}",
            f"- **Fix:** {check.fix.format(**_DEFAULT_API)}",
            f"- **Explained in:** [{pages[page]}](../{page}.md#{anchor})",
            "",
        ]
    return "\n".join(lines)


def exit_codes_markdown() -> str:
    """What each exit code of every script means."""
    from snippets.checks import EXIT_CODES

    rows = [
        f"| `{code}` | {meaning[:1].upper()}{meaning[1:]} |" for code, meaning in EXIT_CODES.items()
    ]
    return "\n".join(["| Exit code | Means |", "|---|---|", *rows, ""])


def mock_scenarios_markdown() -> str:
    """What `--mock SCENARIO` reproduces, one item per scenario: a list, not a table, as the
    longest names (`rate-limited-without-retry-after`) leave a phone no room for a column."""
    from snippets.scenarios import MOCK_SCENARIOS

    items = [f"- `{name}`: {s.summary}" for name, s in MOCK_SCENARIOS.items()]
    return "\n".join([*items, ""])


def contract_rules() -> dict[str, Any]:
    """The OpenAPI document's `x-promptops`: what the schema language cannot say."""
    from snippets.mock_api.endpoints import contract  # the one reader of the document

    rules: dict[str, Any] = contract()["x-promptops"]
    return rules


def _cell(text: object) -> str:
    """Text for one Markdown table cell: on one line, its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    """`text` as inline code, whatever backticks it holds."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def contract_markdown() -> str:
    """The contract's rules for its reference page, from the document's `x-promptops`."""
    rules = contract_rules()
    order, messages = rules["order"], rules["messages"]
    lines = [
        "### The order of checks {#order}",
        "",
        _cell(order["summary"]),
        "",
        "| # | Check | Refused with | What it checks |",
        "|---|---|---|---|",
        *(
            f"| {n} | {step['check']} | `{step['refuses']}` | {_cell(step['rule'])} |"
            for n, step in enumerate(order["steps"], start=1)
        ),
        "",
        "### Error messages {#messages}",
        "",
        _cell(messages["summary"]),
        "",
        "| Situation | Status | Code | `message` |",
        "|---|---|---|---|",
    ]
    for item in messages["items"]:
        where = f" ({_cell(item['where'])})" if "where" in item else ""
        lines.append(
            f"| {_cell(item['situation'])} | {item['status']} | `{item['code']}` | "
            f"{_cell(_code(' '.join(item['message'].split())))}{where} |"
        )
    templates = rules["templates"]
    lines += [
        "",
        "### Prompt ids {#prompt-ids}",
        "",
        *(f"- {_cell(rule)}" for rule in rules["prompt-ids"]),
        "",
        "### Templates {#templates}",
        "",
        _cell(templates["syntax"]),
        "",
        "| Template | Variables | Renders |",
        "|---|---|---|",
        *(
            f"| {_cell(_code(template))} | {_cell(_code(variables))} | {_cell(_code(shown))} |"
            for template, variables, shown in templates["syntax-examples"]
        ),
        "",
        "| A variable's JSON value | renders as | for example |",
        "|---|---|---|",
        *(
            f"| {value['type']} | {_cell(value['renders'])} | "
            + ", ".join(
                f"{_cell(_code(sent))} renders {_cell(_code(shown))}"
                for sent, shown in value["examples"]
            )
            + " |"
            for value in templates["values"]
        ),
        "",
        "### The API key {#key}",
        "",
        _cell(rules["key"]),
        "",
        "### Signing {#signing}",
        "",
        _cell(rules["signing"]),
        "",
        "### Read-only operations {#read-only}",
        "",
        _cell(rules["read-only"]),
        "",
        "### The example prompts {#example-prompts}",
        "",
        _cell(rules["example-prompts"]["summary"]),
        "",
        "| id | name | template | version |",
        "|---|---|---|---|",
        *(
            f"| `{p['id']}` | {p['name']} | {_cell(_code(' '.join(p['template'].split())))} | "
            f"{p['version']} |"
            for p in rules["example-prompts"]["prompts"]
        ),
        "",
    ]
    return "\n".join(lines)


def api_messages_markdown(code: str) -> str:
    """The messages the API sends with error `code`, for the code's section of the API errors
    page (a reader who pastes one into search finds what it means), from the contract's
    `x-promptops.messages`."""
    lines = [
        "The API's messages with this code, as the"
        " [contract](reference/api-contract.md#messages) pins them:",
        "",
        "| Status | `message` | When |",
        "|---|---|---|",
    ]
    for item in contract_rules()["messages"]["items"]:
        if item["code"] != code:
            continue
        where = f"; {_cell(item['where'])}" if "where" in item else ""
        lines.append(
            f"| {str(item['status']).lower()} | {_cell(_code(' '.join(item['message'].split())))}"
            f" | {_cell(item['situation'])}{where} |"
        )
    return "\n".join([*lines, ""])


def api_errors_page(text: str) -> str:
    """The API errors page with each code's messages in its section's region
    (`<!-- generated: messages CODE -->`): every code the contract pins a message for."""
    codes: dict[str, None] = dict.fromkeys(
        item["code"] for item in contract_rules()["messages"]["items"]
    )
    for code in codes:
        text = _region(f"messages {code}", partial(api_messages_markdown, code))(text)
    return text


def _region(name: str, content: Callable[[], str]) -> Callable[[str], str]:
    """Rewrite what sits between `<!-- generated: name -->` and `<!-- end of generated -->`."""
    pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end of generated -->)", re.S)

    def render(text: str) -> str:
        if not pattern.search(text):
            raise ValueError(f"no <!-- generated: {name} --> region")
        return pattern.sub(lambda m: m[1] + content() + m[2], text)

    return render


# Each generated file, and how to write it from its current text.
GENERATED: dict[Path, Callable[[str], str]] = {
    ROOT / "docs/includes/error-matrix.md": lambda _: error_matrix_markdown(),
    ROOT / "docs/includes/install.md": lambda _: install_markdown(),
    ROOT / "docs/includes/doctor-checks.md": lambda _: doctor_checks_markdown(),
    ROOT / "docs/includes/mock-scenarios.md": lambda _: mock_scenarios_markdown(),
    ROOT / "docs/includes/exit-codes.md": lambda _: exit_codes_markdown(),
    ROOT / "README.md": _region("install", install_markdown),
    ROOT / "docs/reference/api-contract.md": _region("contract", contract_markdown),
    ROOT / "docs/api-errors.md": api_errors_page,
}


def _current(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def fresh(path: Path) -> str:
    """What `path` should contain now."""
    return GENERATED[path](_current(path))


def stale_files() -> list[Path]:
    """Generated files whose content differs from what their source produces now."""
    return [path for path in GENERATED if not path.exists() or _current(path) != fresh(path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the docs' generated content.")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = stale_files()
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run python -m snippets.generate")
        return 1 if stale else 0
    for path in stale:
        path.write_text(fresh(path), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
