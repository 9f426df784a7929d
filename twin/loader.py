"""Load specs and catalogs from YAML: parse, validate, check references, report all at once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from twin.catalog import CATALOG_DIR, Catalog, CatalogSections
from twin.errors import SpecError, SpecIssue
from twin.references import check_references
from twin.spec import Spec
from twin.validation import validate
from twin.yamlio import Document, load_yaml


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    """Read every `*.yaml` of a catalog folder; ids must be unique across files."""
    merged = CatalogSections()
    issues: list[SpecIssue] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            doc = load_yaml(path)
            part = validate(doc, CatalogSections)
        except SpecError as exc:
            issues.extend(exc.issues)
            continue
        for section in ("systems", "models", "equipment"):
            for i, entry in enumerate(getattr(part, section)):
                key = f"{section}:{entry.id}"
                if key in seen:
                    issues.append(doc.issue((section, i, "id"), f"duplicate catalog id {entry.id!r} (also in {seen[key]})"))
                seen[key] = path.name
        merged = CatalogSections(
            systems=[*merged.systems, *part.systems],
            models=[*merged.models, *part.models],
            equipment=[*merged.equipment, *part.equipment],
        )
    if issues:
        raise SpecError(issues)
    return Catalog(merged)


@cache
def shipped_catalog() -> Catalog:
    """The catalog under facility_specs/catalog, read once per process."""
    return load_catalog(CATALOG_DIR)


def parse_spec(doc: Document, catalog: Catalog | None = None) -> Spec:
    """Validate a parsed document as a Spec and check its cross-references."""
    spec = validate(doc, Spec)
    base = catalog or shipped_catalog()
    spec._base_catalog = base
    issues = check_references(spec, doc, base.merged(spec.catalog))
    if issues:
        raise SpecError(issues)
    from twin.plan_alternatives import alternative_issues  # it parses specs itself

    issues = alternative_issues(spec, doc)
    if issues:
        raise SpecError(issues)
    return spec


def load_spec(path: str | Path, catalog: Catalog | None = None) -> Spec:
    """Read, validate and cross-check a facility spec; raise SpecError listing every problem."""
    spec = parse_spec(load_yaml(path), catalog)
    spec._path = Path(path)
    return spec


def load_spec_text(text: str, name: str = "<spec>", catalog: Catalog | None = None, folder: Path | None = None) -> Spec:
    """As load_spec, for text edited in the app or produced by the optimizer.

    With `folder` (the app), the spec lives in that folder and every file it names must be
    inside it (twin/spec_files.py); a reference leading out is an issue at its line.
    """
    from twin.spec_files import file_issues

    doc = load_yaml(name, text=text)
    spec = parse_spec(doc, catalog)
    if folder is not None:
        spec._path, spec._files_root = Path(folder) / Path(name).name, Path(folder)
        issues = file_issues(spec, doc)
        if issues:
            raise SpecError(issues)
    return spec
