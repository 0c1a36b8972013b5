"""Background jobs: `cmd &`, `$!`, `wait` and `jobs`.

The sandbox runs one command at a time, so a background job is a subshell (a copy of the
shell's state when `&` was read) that waits its turn: it runs when the foreground waits -
at `wait`, before a foreground `sleep`, and when the shell that started it ends (as the
exec's stream stays open until every process holding it has ended). Its output therefore
comes after what the foreground printed before that point, the same order every run. A
job runs to completion; more than MAX_PENDING waiting jobs make the oldest run first.

`jobs` prints as the image's shell does: bash (jobs.c pretty_print_job: the state padded
to 24, `&` after a running job), dash (jobs.c showjob: `[1] + `, the command at column
33, `Done(1)`) and BusyBox ash (its showjob: `[1]+  `, otherwise as dash).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ShellExit, _LoopControl

MAX_PENDING = 32
FIRST_PID = 10        # $! of the first background job; each next one takes the next number


@dataclass
class Job:
    number: int
    pid: int
    text: str
    node: object              # the parser's AndOr, run with its `background` mark off
    io: object                # the streams it was started with
    shell: object             # the subshell: the state when `&` was read
    status: int | None = None

    @property
    def done(self) -> bool:
        return self.status is not None


class JobTable:
    """The jobs one shell started, in order."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    @property
    def pending(self) -> bool:
        return any(not j.done for j in self.jobs)

    def start(self, sh, node, io_) -> Job:
        waiting = [j for j in self.jobs if not j.done]
        if len(waiting) >= MAX_PENDING:
            self.run(waiting[0])
        sh.budget.last_pid = max(sh.budget.last_pid, FIRST_PID - 1) + 1
        number = max((j.number for j in self.jobs), default=0) + 1
        job = Job(number, sh.budget.last_pid, node.background, node, io_, sh.clone())
        self.jobs.append(job)
        return job

    def run(self, job: Job) -> None:
        if job.done:
            return
        sub = job.shell
        job.status = 0                  # marked first: a job never runs twice
        try:
            sub.exec_and_or(_foreground(job.node), job.io)
            job.status = sub.status
        except ShellExit as ex:
            job.status = ex.code
        except _LoopControl:
            job.status = sub.status
        finally:
            sub.jobs.run_all()          # what the job itself left in the background

    def run_all(self) -> None:
        for job in list(self.jobs):
            self.run(job)

    def find(self, spec: str) -> Job | None:
        """A job by pid (`wait 12`) or job spec (`%1`, `%%`, `%+`, `%-`)."""
        if spec.startswith("%"):
            key = spec[1:]
            if key in ("", "%", "+"):
                return self.jobs[-1] if self.jobs else None
            if key == "-":
                return self.jobs[-2] if len(self.jobs) > 1 else None
            return next((j for j in self.jobs if str(j.number) == key), None)
        return next((j for j in self.jobs if str(j.pid) == spec), None)

    def forget(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)


def _foreground(node):
    from dataclasses import replace
    return replace(node, background=None)


def wait_builtin(sh, argv, io_, line) -> int:
    """wait [pid|%job...]: run what is pending; the status of the last one named."""
    table: JobTable = sh.jobs
    if len(argv) == 1:
        table.run_all()
        table.jobs.clear()
        return 0
    status = 0
    for spec in argv[1:]:
        job = table.find(spec)
        if job is None:
            if sh.dialect.is_bash:
                what = f"pid {spec} is not a child of this shell" if not spec.startswith("%") \
                    else f"{spec}: no such job"
                io_.err.write(f"{sh.dialect.prefix(line)}wait: {what}\n")
            status = 127
            continue
        for earlier in table.jobs[:table.jobs.index(job) + 1]:
            table.run(earlier)          # jobs started before it have had their turn too
        status = job.status
        table.forget(job)
    return status


def jobs_builtin(sh, argv, io_, line) -> int:
    table: JobTable = sh.jobs
    pids_only = "-p" in argv[1:]
    shown = list(table.jobs)
    for job in shown:
        if pids_only:
            io_.out.write(f"{job.pid}\n")
            continue
        io_.out.write(_job_line(sh.dialect, job, table.jobs))
    for job in shown:
        if job.done and not pids_only:
            table.forget(job)           # a finished job is reported once, then freed
    return 0


def _job_line(dialect, job: Job, jobs: list[Job]) -> str:
    mark = "+" if job is jobs[-1] else "-" if len(jobs) > 1 and job is jobs[-2] else " "
    if dialect.is_bash:
        if not job.done:
            state, text = "Running", job.text + " &"
        else:
            state, text = ("Done" if job.status == 0 else f"Exit {job.status}"), job.text
        return f"[{job.number}]{mark}  {state:<24}{text}\n"
    head = f"[{job.number}]   "
    at = len(head) - (3 if dialect.kind == "ash" else 2)
    head = head[:at] + mark + head[at + 1:]
    state = "Running" if not job.done else "Done" if job.status == 0 else f"Done({job.status})"
    col = len(head) + len(state)
    return f"{head}{state}{' ' * max(33 - col, 1)}{job.text}\n"
