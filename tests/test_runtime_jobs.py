"""Background jobs in the pod shell (`&`, `$!`, `wait`, `jobs`) and head/tail by bytes.

A job runs when the foreground waits (`wait`, a `sleep`, the end of its shell), so the
order of output is fixed; `jobs` prints as each image's shell does (bash jobs.c
pretty_print_job, dash jobs.c showjob, BusyBox ash's showjob).
"""
from __future__ import annotations

import pytest

from labkit.sandbox.runtime.shell import jobs as jobs_module

from tests.test_runtime_shell import sh

SHELLS = [("nginx", "sh"), ("centos:7", "bash"), ("busybox", "sh")]


@pytest.mark.parametrize("image, shell", SHELLS)
def test_a_background_job_prints_after_the_foreground_that_did_not_wait(image, shell):
    assert sh("(sleep 0.01; echo a) & echo b", image=image, shell=shell) == ("b\na\n", "", 0)
    assert sh("echo start; echo bg & echo fg; wait; echo end", image=image, shell=shell)[0] == \
        "start\nfg\nbg\nend\n"


@pytest.mark.parametrize("image, shell", SHELLS)
def test_a_foreground_sleep_lets_the_jobs_run_first(image, shell):
    assert sh("echo job & sleep 0.01; echo after", image=image, shell=shell)[0] == "job\nafter\n"


def test_each_job_sees_the_state_when_it_was_started():
    out, _, code = sh("for i in 1 2 3; do echo job$i & done; i=9; wait; echo all $i")
    assert (out, code) == ("job1\njob2\njob3\nall 9\n", 0)
    assert sh("x=1; (x=2; echo $x) & wait; echo $x")[0] == "2\n1\n"


def test_dollar_bang_and_wait_for_one_job_return_its_status():
    assert sh("echo $!; true & echo $!; false & wait $!; echo $?; wait %1; echo $?")[0] == \
        "\n10\n1\n0\n"
    assert sh("(exit 3) & wait $!; echo $?", image="centos:7", shell="bash")[0] == "3\n"


def test_wait_without_operands_is_zero_even_after_a_failed_job():
    assert sh("false & wait; echo $?")[0] == "0\n"


@pytest.mark.parametrize("image, shell, err", [
    ("centos:7", "bash", "bash: wait: pid 999 is not a child of this shell\n"),
    ("nginx", "sh", ""),             # dash waitcmd: an unknown pid is status 127, silently
    ("busybox", "sh", ""),
])
def test_wait_for_a_pid_that_is_not_a_child(image, shell, err):
    assert sh("wait 999; echo $?", image=image, shell=shell) == ("127\n", err, 0)


@pytest.mark.parametrize("image, shell, running, done", [
    ("centos:7", "bash",
     "[1]-  Running                 sleep 1 &\n[2]+  Running                 echo hi &\n",
     "[1]+  Exit 3                  exit 3\n"),
    ("nginx", "sh",
     "[1] - Running                    sleep 1\n[2] + Running                    echo hi\n",
     "[1] + Done(3)                    exit 3\n"),
    ("busybox", "sh",
     "[1]-  Running                    sleep 1\n[2]+  Running                    echo hi\n",
     "[1]+  Done(3)                    exit 3\n"),
])
def test_jobs_layout_per_shell(image, shell, running, done):
    out, _, _ = sh("sleep 1 & echo hi & jobs; jobs -p", image=image, shell=shell)
    assert out.startswith(running + "10\n11\n")
    out, _, _ = sh("exit 3 & sleep 0.01; jobs; jobs; echo end", image=image, shell=shell)
    assert out == done + "end\n"          # a finished job is reported once


def test_the_exec_ends_when_its_last_job_does():
    assert sh("echo late & exit 4") == ("late\n", "", 4)
    assert sh('x=$(echo in & echo out); echo "$x"')[0] == "out\nin\n"
    assert sh("{ echo piped & } | tr a-z A-Z")[0] == "PIPED\n"


def test_set_e_in_a_job_ends_only_the_job():
    assert sh("set -e; false & wait; echo still here")[0] == "still here\n"


def test_waiting_jobs_are_bounded(monkeypatch):
    monkeypatch.setattr(jobs_module, "MAX_PENDING", 3)
    out, _, code = sh("for i in 1 2 3 4 5; do echo $i & done; echo loop done; wait")
    # The fourth start lets the oldest run: 1 and 2 come out before the loop ends.
    assert (out, code) == ("1\n2\nloop done\n3\n4\n5\n", 0)


def test_background_marker_is_not_a_separator_inside_words_or_and_lists():
    assert sh("echo a&&echo b; echo 'x & y'")[0] == "a\nb\nx & y\n"
    assert sh("true && echo first & wait")[0] == "first\n"


# ---------------------------------------------------------------- head -c, tail -c

@pytest.mark.parametrize("image", ["nginx", "busybox", "centos:7"])
def test_head_and_tail_by_bytes(image):
    text = "printf 'hello world\\n'"
    assert sh(f"{text} | head -c 5", image=image)[0] == "hello"
    assert sh(f"{text} | head -c5", image=image)[0] == "hello"
    assert sh(f"{text} | head --bytes=2", image=image)[0] == "he"
    assert sh(f"{text} | tail -c 6", image=image)[0] == "world\n"
    assert sh(f"{text} | tail -c +7", image=image)[0] == "world\n"


def test_head_c_gnu_forms_and_errors():
    assert sh("printf abcdef | head -c -2")[0] == "abcd"              # all but the last 2
    assert sh("head -c 1K /etc/hostname")[0] == "client\n"
    assert sh("printf 'a\\nb\\nc\\n' | head -n -1")[0] == "a\nb\n"
    assert sh("echo x | head -c y") == ("", "head: invalid number of bytes: 'y'\n", 1)
    assert sh("echo x | head -c y", image="busybox") == ("", "head: invalid number 'y'\n", 1)
    assert sh("echo x | tail -c z") == ("", "tail: invalid number of bytes: 'z'\n", 1)


def test_head_c_counts_bytes_of_utf8():
    assert sh("printf 'h\\303\\251llo' | head -c 3 | wc -c")[0] == "3\n"
