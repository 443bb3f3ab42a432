"""The developer tools (bench, load test, the README's screenshots) are an app beside the product: `pip install .` does
not ship them, and the settings load them only where they are present."""

import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

ROOT = Path(settings.BASE_DIR)


def test_the_product_package_leaves_the_developer_tools_out():
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert (ROOT / "devtools" / "__init__.py").exists()
    assert any(fnmatch("playground.generations", pattern) for pattern in found["include"])
    assert not any(fnmatch(package, pattern) for package in ("devtools", "devtools.bench")
                   for pattern in found["include"])


def test_bench_loadtest_and_screenshots_are_commands_where_the_tools_are_present():
    assert "devtools" in settings.INSTALLED_APPS
    commands = get_commands()
    assert {commands[name] for name in ("bench", "loadtest", "gatewayload", "screenshots")} == {"devtools"}


def test_without_the_tools_the_product_checks_clean_and_has_no_bench(tmp_path):
    (tmp_path / "playground").symlink_to(ROOT / "playground")
    (tmp_path / "manage.py").write_text((ROOT / "manage.py").read_text())
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "playground.settings"}

    def manage(*command):
        return subprocess.run([sys.executable, "manage.py", *command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    check = manage("check")
    assert check.returncode == 0, check.stderr
    assert "no issues" in check.stdout
    listed = manage("help", "--commands")
    assert "generate" in listed.stdout.split()
    assert not {"bench", "loadtest", "gatewayload", "screenshots"} & set(listed.stdout.split())


def test_another_package_named_devtools_is_not_taken_for_the_tools(tmp_path):
    """PyPI has a package called devtools; only one with devtools.bench is ours."""
    (tmp_path / "playground").symlink_to(ROOT / "playground")
    (tmp_path / "devtools").mkdir()
    (tmp_path / "devtools" / "__init__.py").write_text("")
    code = "import django; django.setup(); from django.conf import settings; print('devtools' in settings.INSTALLED_APPS)"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "playground.settings"}
    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert found.stdout.strip() == "False", found.stderr
