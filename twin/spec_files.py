"""Files a spec names (its weather file), and the folder the app confines them to.

On the command line a spec may name any file its user can read: the user named the spec.
In the app the spec comes from a browser, so it may only name files in its own folder
(an upload's per-session folder, or `facility_specs/` for the shipped examples); an
absolute path, `..` or a symlink out of the folder is an error naming the field, and the
file outside is never opened.
"""

from __future__ import annotations

from pathlib import Path

from twin.errors import SpecError, SpecIssue
from twin.spec import Spec
from twin.weather import WEATHER_SEED, Weather, weather_for
from twin.yamlio import Document

WEATHER_FIELD = ("site", "climate", "file")


def inside(folder: Path, value: str) -> Path | None:
    """`value` resolved inside `folder` (symlinks followed), or None when it leads out of it."""
    try:
        if Path(value).is_absolute():
            return None
        root = Path(folder).resolve()
        full = (root / value).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return None
    return full if full.is_relative_to(root) and full != root else None


def _outside(value: str) -> str:
    return (f"{value!r} is outside the spec's folder; a spec opened in the app reads only files "
            "in its own folder (upload the weather file beside the spec)")


def file_issues(spec: Spec, doc: Document) -> list[SpecIssue]:
    """Problems of a confined spec's file references, each at its line (none for an unconfined spec)."""
    value = spec.site.climate.file
    if spec.files_root is None or value is None or inside(spec.files_root, value) is not None:
        return []
    return [doc.issue(WEATHER_FIELD, _outside(value))]


def weather_file(spec: Spec) -> Path | None:
    """The weather file a spec names: relative to the spec's folder; inside it when the spec is confined."""
    value = spec.site.climate.file
    if value is None:
        return None
    if spec.files_root is not None:
        path = inside(spec.files_root, value)
        if path is None:
            raise SpecError([SpecIssue(str(spec.path or spec.name), None, None, ".".join(WEATHER_FIELD), _outside(value))])
        return path
    path = Path(value)
    return path if path.is_absolute() or spec.path is None else spec.path.parent / path


def spec_weather(spec: Spec, seed: int = WEATHER_SEED) -> Weather:
    """The year of weather a spec's climate describes (its file resolved as `weather_file` says)."""
    climate = spec.site.climate
    path = weather_file(spec)
    if path is not None:
        climate = climate.model_copy(update={"file": str(path)})
    return weather_for(climate, None, seed)
