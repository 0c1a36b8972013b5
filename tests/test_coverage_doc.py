"""docs/SANDBOX_COVERAGE.md is generated from the sandbox's tables and must be current."""
import subprocess
import sys

from .conftest import ROOT


def test_coverage_table_is_current():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "coverage.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
