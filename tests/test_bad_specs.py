"""A corpus of broken specs: each gives exit 2 and a message naming the right line and field."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.cli_support import aift_process
from twin.errors import SpecError
from twin.loader import load_spec
from twin.yamlio import load_yaml

BAD = sorted((Path(__file__).parent / "bad_specs").glob("*.yaml"))


def _expectations(path: Path) -> tuple[str, str, int | None]:
    lines = path.read_text(encoding="utf-8").splitlines()
    field = lines[0].removeprefix("# expect-field:").strip()
    message = lines[1].removeprefix("# expect-message:").strip()
    marked = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith("#!")]
    return field, message, marked[0] if marked else None


def test_corpus_is_large_enough():
    assert len(BAD) >= 30


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_spec_names_line_and_field(path):
    field, message, line = _expectations(path)
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    issues = exc.value.issues
    matching = [i for i in issues if message in i.message and (not field or i.path == field)]
    assert matching, f"no issue with field {field!r} and message {message!r} in:\n{exc.value}"
    if line is not None:
        assert any(i.line == line for i in matching), f"expected line {line}:\n{exc.value}"
    assert all(i.file == str(path) for i in issues)




def test_cli_exit_2_and_no_traceback_for_every_bad_spec():
    result = aift_process("validate", *map(str, BAD), timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    for path in BAD:
        assert f"fail {path}" in result.stderr


def test_cli_exit_2_for_missing_huge_and_binary_files(tmp_path):
    huge = tmp_path / "huge.yaml"
    huge.write_text("name: x\n" + "# padding\n" * 600_000)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: \xff\xfe\x00bad\n")
    for path, fragment in [(tmp_path / "missing.yaml", "cannot read file"), (huge, "the limit is"), (binary, "not UTF-8")]:
        result = aift_process("validate", str(path), timeout=120)
        assert result.returncode == 2, result.stderr
        assert fragment in result.stderr
        assert str(path) in result.stderr
        assert "Traceback" not in result.stderr


def test_cli_ok_exit_0_on_examples():
    result = aift_process("validate", "--json", *sorted((Path(__file__).parent.parent / "facility_specs").glob("*.yaml")), timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"ok": true' in result.stdout


@pytest.mark.parametrize("args", [["twin", "tests/specs/small.yaml", "--utilization", "2"], ["validate", "--bogus"], ["nosuchcommand"]])
def test_cli_usage_errors_exit_2_without_traceback(args):
    result = aift_process(*args, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "Error" in result.stderr


def test_a_spec_path_that_is_not_a_regular_file_is_refused_before_reading(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading it would block for ever; /dev/zero would fill the memory
    for path, fragment in [(fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file"),
                           (tmp_path, "it is a directory"), ("nul\x00.yaml", "cannot read file")]:
        with pytest.raises(SpecError, match=fragment) as exc:
            load_yaml(path)
        assert exc.value.issues[0].file == str(path)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("name: a\x00b\n", 1, "U+0000 is not allowed"),
        ("name: x\nsite: {utility_mw: !!float many}\n", 2, "'many' is not a valid float"),
        ("name: x\n!!int ten: 1\n", 2, "'ten' is not a valid int"),
        ("name: !!seq {a: 1}\n", 1, "'!!seq' does not fit a mapping"),
        ("name: !!str [a]\n", 1, "'!!str' does not fit a list"),
        ("units: " + "1" * 5000 + "\n", 1, "5,000 digits is too long"),
        ("a: 1\n\xe9t\xe9: 2\n", 2, "not UTF-8"),
    ],
)
def test_yaml_that_the_reader_or_a_tag_refuses_names_its_line(tmp_path, text, line, message):
    path = tmp_path / "s.yaml"
    path.write_bytes(text.encode("latin-1") if "\xe9" in text else text.encode())
    with pytest.raises(SpecError, match=re.escape(message)) as exc:
        load_yaml(path)
    assert exc.value.issues[0].line == line


def test_large_redundant_groups_do_not_overflow_the_availability():
    from twin.reliability import k_of_n

    assert 0.0 <= k_of_n(0.999, 1999, 2000) <= 1.0  # binomial coefficients of 2000 units exceed a float
    assert abs(k_of_n(0.99, 64, 65) - (0.99**65 + 65 * 0.01 * 0.99**64)) < 1e-12
