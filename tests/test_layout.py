"""The tree is the map: one folder per product area, the README's map matches it, the product never imports bench/."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AREAS = sorted(p.parent.name for p in (ROOT / "crm").glob("*/views.py"))


def _readme_map() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def test_every_path_in_the_readme_map_exists():
    paths = re.findall(r"^((?:crm|templates|static|migrations|tests|bench)/[\w./]*|app\.py)", _readme_map(), re.M)
    assert len(paths) > 15
    for path in paths:
        assert (ROOT / path).exists(), f"the README map names {path}, which is not in the tree"


def test_every_area_and_package_folder_is_on_the_map():
    shown = _readme_map()
    folders = [p.name for p in (ROOT / "crm").iterdir() if (p / "__init__.py").exists()]
    assert set(AREAS) <= set(folders)
    for folder in folders:
        assert f"crm/{folder}/" in shown, f"crm/{folder}/ is missing from the README map"


def test_each_area_draws_its_pages_from_its_own_template_folder():
    for area in AREAS:
        views = (ROOT / "crm" / area / "views.py").read_text(encoding="utf-8")
        own = re.findall(r'render_template\(\s*"([^"/]+)/', views)
        assert own, area
        assert area in own, f"crm/{area}/views.py draws no page from templates/{area}/"
        assert (ROOT / "templates" / area).is_dir()
    for folder in (ROOT / "templates").iterdir():
        if folder.is_dir():
            assert folder.name in AREAS + ["errors"], f"templates/{folder.name}/ belongs to no area"


def test_nothing_in_the_product_imports_the_benchmarks():
    for path in (ROOT / "crm").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+bench\b", source, re.M), path
