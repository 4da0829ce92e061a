"""Generated content: stale files are found, and one command rewrites them."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippets import generate


@pytest.fixture
def one_generated_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "docs/includes/table.md"
    target.parent.mkdir(parents=True)
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    monkeypatch.setattr(generate, "GENERATED", {target: lambda _: "| a |\n"})
    return target


def test_missing_and_edited_files_are_stale(one_generated_file: Path) -> None:
    assert generate.stale_files() == [one_generated_file]  # missing
    one_generated_file.write_text("| a |\n")
    assert generate.stale_files() == []
    one_generated_file.write_text("| edited by hand |\n")
    assert generate.stale_files() == [one_generated_file]


def test_check_reports_and_the_command_rewrites(
    one_generated_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generate.main(["--check"]) == 1
    assert "docs/includes/table.md is out of date" in capsys.readouterr().out
    assert generate.main([]) == 0
    assert one_generated_file.read_text() == "| a |\n"
    assert "wrote docs/includes/table.md" in capsys.readouterr().out
    assert generate.main(["--check"]) == 0


def test_a_region_is_rewritten_between_its_markers_and_nothing_else() -> None:
    render = generate._region("install", lambda: "new\n")
    text = "# Title\n<!-- generated: install -->\nold\nlines\n<!-- end of generated -->\nkept\n"
    assert render(text) == (
        "# Title\n<!-- generated: install -->\nnew\n<!-- end of generated -->\nkept\n"
    )


def test_a_file_without_its_region_is_an_error_naming_it() -> None:
    render = generate._region("install", lambda: "new\n")
    with pytest.raises(ValueError, match="no <!-- generated: install --> region"):
        render("# Title\n<!-- generated: other -->\nold\n<!-- end of generated -->\n")


def test_help_says_what_the_command_and_its_option_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        generate.main(["--help"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "Regenerate the docs' generated content."
    shown = " ".join(" ".join(lines).split())
    assert "--check only report stale files" in shown
