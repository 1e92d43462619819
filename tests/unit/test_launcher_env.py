import os
import subprocess
import sys

from infra.stack.processes import ROOT


def test_the_launcher_does_not_choose_a_settings_module_for_the_commands_it_runs() -> None:
    # given: no settings module in the environment
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    # when: importing what the launcher imports
    probe = "import os, infra.stack.__main__; print(os.environ.get('DJANGO_SETTINGS_MODULE'))"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    # then: pytest's own setting (pyproject) stays in charge
    assert result.stdout.strip() == "None"
