"""What every command shares: JSON or rich tables, errors on stderr, exit codes."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from twin.errors import SpecError

EXIT_OK, EXIT_BUG, EXIT_INPUT, EXIT_INFEASIBLE = 0, 1, 2, 3

# Piped output (CI logs, files) gets a wide console instead of rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


class InputError(Exception):
    """Bad input that is not a spec file (a flag, an id): exit 2 with this message."""


class Infeasible(Exception):
    """A plan that cannot be met: exit 3 with this message."""


def run_guarded(app: typer.Typer) -> int:
    """Run a typer app; map input errors to 2, infeasible plans to 3 and bugs to 1."""
    try:
        code = app(standalone_mode=False)  # click returns typer.Exit codes in this mode
    except SpecError as exc:
        for issue in exc.issues:
            err.print(str(issue), markup=False, highlight=False)
        err.print(f"{len(exc.issues)} problem(s) found.", style="red")
        return EXIT_INPUT
    except InputError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return EXIT_INPUT
    except Infeasible as exc:
        err.print(f"infeasible: {exc}", markup=False, highlight=False)
        return EXIT_INFEASIBLE
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: report a bug, not a trace dump
        # Usage errors (unknown flag, value out of range) come from click, or from the copy of
        # click that typer vendors: recognise them by their interface, exit 2 with click's message.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return EXIT_INPUT
        err.print("internal error (a bug in aift; please report it with this trace):", style="red")
        err.print("".join(traceback.format_exception(exc)), markup=False, highlight=False)
        return EXIT_BUG
    return code if isinstance(code, int) else EXIT_OK


def print_json(data: Any) -> None:
    """Machine output: one JSON document on stdout; a value that is not finite (an unproven gap) is null."""
    sys.stdout.write(json_document(data) + "\n")


def json_document(data: Any) -> str:
    """`data` as JSON text, numpy values and paths made plain, a value that is not finite null."""
    plain = json.loads(json.dumps(data, default=_json_default))  # numpy and paths to plain values, NaN/inf kept
    return json.dumps(_finite_or_null(plain), indent=2, allow_nan=False)


def _finite_or_null(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite_or_null(v) for v in obj]
    return obj


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A rich table with right-aligned numbers; every text is shown as written, never read as markup
    (ids and names come from specs and grid files: `[bold]` or `[/]` is text)."""
    t = Table(title=escape(title), title_justify="left")
    for i, c in enumerate(columns):
        numeric = rows and all(isinstance(r[i], (int, float)) for r in rows)
        t.add_column(escape(c), justify="right" if numeric else "left")
    for r in rows:
        t.add_row(*[escape(fmt(v)) for v in r])
    return t


def fmt(v: Any) -> str:
    """Numbers with sensible precision for a human table."""
    if isinstance(v, bool) or v is None:
        return "-" if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "-"  # undefined, e.g. a latency with no request
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1e4:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:,.1f}"
        if a >= 1:
            return f"{v:.3g}" if a < 10 else f"{v:.1f}"
        if 0.99 <= a < 1:  # availabilities: the nines are the information
            return f"{v:.6f}".rstrip("0")
        return f"{v:.3g}"
    return str(v)


def spec_inputs(spec: Any) -> list[Path]:
    """The files a loaded spec was read from: the spec itself and its weather file, if any."""
    files = [] if spec.path is None else [Path(spec.path)]
    weather = spec.site.climate.file
    if weather is not None:
        w = Path(weather)
        files.append(w if w.is_absolute() or spec.path is None else Path(spec.path).parent / w)
    return files


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except (OSError, ValueError):
        return False


FORCE = typer.Option(False, "--force", help="Overwrite existing output files (never an input).")


def check_output(flag: str, target: Path, inputs: Iterable[Path], *, files: Iterable[str] | None = None, force: bool = False) -> None:
    """Refuse an output path before any work is done: one of the inputs, an existing file (unless `force`),
    the wrong kind, or under a file.

    `target` is a file, or with `files` a folder into which those files are written.
    """
    target = Path(target)
    written = [target] if files is None else [target / f for f in files]
    for path in written:
        for i in inputs:
            if _same_file(path, Path(i)):
                raise InputError(f"{flag} {target} would overwrite the input {i}; inputs are never written over")
    special = [p for p in written if p.exists() and not p.is_file() and not p.is_dir()]
    if special:  # a device, pipe or socket: the write's rename would put a file in its place, even /dev/null
        raise InputError(f"{flag} {special[0]} is not a regular file (a device, pipe or socket); give a file name")
    existing = [p for p in written if p.is_file()]
    if existing and not force:
        raise InputError(f"{flag}: {existing[0]} exists; pass --force to overwrite it")
    if files is not None:
        if target.exists() and not target.is_dir():
            raise InputError(f"{flag} {target} is a file, not a directory")
    elif target.is_dir():
        raise InputError(f"{flag} {target} is a directory; give a file name")
    ancestor = target if files is not None else target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{flag} {target}: {ancestor} is a file, not a directory")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file through a temporary file and a rename, so no reader sees half of it.

    A path that cannot be written (no such folder, no permission, a directory) is bad input:
    InputError naming the path, never a traceback.
    """
    path = Path(path)
    blob = data.encode() if isinstance(data, str) else data
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "it is a directory")
        if path.exists() and not path.is_file():
            raise OSError("it is not a regular file (a device, pipe or socket), which the rename would replace")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
