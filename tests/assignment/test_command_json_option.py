"""Every command's ``--json`` lands in ``as_json``, so no ``handle`` shadows the json module.

The command line stays ``--json``; ``call_command`` maps keyword options by their option
string as well as by their dest, so ``json=True`` and ``as_json=True`` both keep working.
"""

from __future__ import annotations

import inspect
import io
import json

import pytest
from django.core.management import call_command, get_commands, load_command_class

pytestmark = pytest.mark.django_db

OUR_COMMANDS = sorted(
    name for name, app in get_commands().items() if app in ("assignment", "staff", "chatassist")
)
# The commands that offer --json and need no other argument to run.
JSON_WITHOUT_ARGUMENTS = ["assign_waiting", "coverage_report", "on_duty"]


def json_actions(name: str) -> list:
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    return [action for action in parser._actions if "--json" in action.option_strings]


def test_the_command_list_is_the_one_docs_api_documents():
    assert OUR_COMMANDS == [
        "add_public_holidays",
        "assign_waiting",
        "close_idle_sessions",
        "coverage_report",
        "export_config",
        "import_config",
        "messages_check",
        "on_duty",
        "purge_messages",
        "return_to_queue",
        "seed_demo",
        "webhook_example",
    ]


@pytest.mark.parametrize("name", OUR_COMMANDS)
def test_no_handle_takes_a_parameter_called_json(name):
    command = load_command_class(get_commands()[name], name)
    assert "json" not in inspect.signature(command.handle).parameters
    assert [action.dest for action in json_actions(name)] in ([], ["as_json"])


@pytest.mark.parametrize("name", JSON_WITHOUT_ARGUMENTS)
@pytest.mark.parametrize("keyword", ["as_json", "json"])
def test_call_command_takes_the_dest_and_the_option_name(name, keyword):
    assert json_actions(name), f"{name} has no --json option"
    out = io.StringIO()
    call_command(name, stdout=out, **{keyword: True})
    json.loads(out.getvalue())  # raises unless the command printed JSON
