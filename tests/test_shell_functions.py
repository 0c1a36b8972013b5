"""Shell functions in the pod shell (POSIX 2.9.5): defined once, called with their own
positional parameters, ended by `return`; and kept from line to line in a session."""
from __future__ import annotations

import pytest

from .test_runtime_shell import run


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_a_function_takes_its_arguments_and_leaves_the_callers(shell):
    script = 'greet() { echo "hi $1 ($#)"; }; set -- outer; greet a b; greet c; echo "$1"'
    assert run([shell, "-c", script]) == ("hi a (2)\nhi c (1)\nouter\n", "", 0)


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_return_ends_the_call_with_its_status(shell):
    assert run([shell, "-c", "f() {\n  return 3\n  echo never\n}\nf; echo $?"]) == ("3\n", "", 0)
    assert run([shell, "-c", "f() { false; return; }; f; echo $?"]) == ("1\n", "", 0)


def test_exit_inside_a_function_ends_the_shell():
    assert run(["sh", "-c", "f() { echo in; exit 4; }; f; echo after"]) == ("in\n", "", 4)


def test_a_subshell_body_keeps_its_variables_to_itself():
    assert run(["sh", "-c", 'f() ( X=1; echo sub ); f; echo "[$X]"']) == ("sub\n[]\n", "", 0)


def test_return_outside_a_function():
    # bash refuses it; dash ends the script with the status, as `exit` would.
    assert run(["sh", "-c", "return 2; echo x"]) == ("", "", 2)
    assert run(["bash", "-c", "return 2; echo x"]) == (
        "x\n", "bash: line 1: return: can only `return' from a function or sourced script\n", 0)


def test_a_function_body_must_be_a_compound_command():
    assert run(["sh", "-c", "f() echo x"]) == ("", 'sh: 1: Syntax error: "echo" unexpected\n', 2)
    assert run(["bash", "-c", "f() echo x"])[1].startswith(
        "bash: -c: line 1: syntax error near unexpected token `echo'")
