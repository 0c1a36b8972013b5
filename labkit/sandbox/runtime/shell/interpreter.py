"""A POSIX sh subset that runs "inside" a sandbox pod: never the host's shell.

Covers what the course's loops need: quoting, `;` `&&` `||` `|` `!`, if/for/while/until,
`{ }` and `( )`, variables and `${...}` forms, `$(...)`, `$((...))`, redirections to
/dev/null, to per-exec virtual files and between fds. No globbing (a pattern stays as
written, as sh leaves it when nothing matches), no here-documents; functions, whose
`return` ends the call.

Messages follow the shell the image really has (`Dialect`): dash on Debian, BusyBox ash
on Alpine and busybox, bash (4.x without, 5.1+ with the "line N:" of `bash -c`).
Pipelines run their stages one after another, each in a copy of the shell's state (as
the stages of a real pipeline are subshells). Budgets guard the sandbox: the exec's
deadline (checked at every command and loop iteration), MAX_ITERATIONS loop turns,
MAX_OUTPUT characters per stream, and the exec's `Memory` (io), which variables,
expanded words, pipes, substitutions, files and the lines a tool holds count against; the
table of them is generated into docs/SANDBOX_COVERAGE.md.

The interpreter (`Shell`: execution, redirections, external commands) lives here; beside
it are the lexer, parser, expansion (words and parameters), io (streams and memory),
builtins, arithmetic (`$((...))`), dialect (message styles) and errors.
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field

from .._context import TOOLS, ToolContext
from .builtins import BUILTINS
from .dialect import Dialect, dialect_kind
from .errors import (LimitExceeded, OutOfMemory, ShellExit, ShellSyntaxError, Timeout, _LoopControl,
                     _Return)
from .expansion import Expansion
from .io import (BufferSink, FileSink, Input, Io, Memory, NullSink, Sink, SinkText,
                 text_size)
from .jobs import JobTable
from .parser import (AndOr, For, FuncDef, Group, If, Parser, Pipeline, Redirected, Seq, Simple,
                     While)

__all__ = ["MAX_ITERATIONS", "Shell"]

MAX_ITERATIONS = 100_000
# What the parsed form of a script costs, per character of its text (measured with
# tracemalloc: 140 to 530 bytes, by how dense the commands are).
PARSE_COST = 400
MAX_DEPTH = 50
_PATH_DIRS = ("/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")
_SHELLS = ("sh", "bash", "ash", "dash")


# ---------------------------------------------------------------- interpreter

# POSIX 2.14: found before functions (a function cannot replace `exit` or `return`).
_SPECIAL_BUILTINS = frozenset({":", ".", "break", "continue", "eval", "exec", "exit", "export",
                               "readonly", "return", "set", "shift", "times", "trap", "unset"})


@dataclass
class _Budget:
    iterations: int = 0
    last_pid: int = 0            # the last background job's pid, across the exec's shells


class _Vars(dict):
    """The shell's variables, keeping the total size of their values (`size`) so that an
    assignment that would take the exec past its memory budget is an OOM kill."""

    def __init__(self, memory: Memory | None = None, data=(), base: int = 0) -> None:
        super().__init__(data)
        self.memory, self.base = memory, base   # base: what the parent shells' variables take
        self.size = sum(text_size(v) for v in self.values() if isinstance(v, str))

    def __setitem__(self, key, value) -> None:
        old = self.get(key)
        grow = text_size(value) - (text_size(old) if isinstance(old, str) else 0)
        if self.memory is not None and grow > 0:
            self.memory.need(grow, self.size + self.base)
        super().__setitem__(key, value)
        self.size += grow

    def __delitem__(self, key) -> None:
        self.size -= text_size(self[key])
        super().__delitem__(key)

    def pop(self, key, *default):
        if key in self:
            self.size -= text_size(self[key])
        return super().pop(key, *default)

    def setdefault(self, key, value=None):
        if key not in self:
            self[key] = value
        return self[key]

    def copy(self) -> "_Vars":
        return _Vars(self.memory, self, self.base)

    @property
    def total(self) -> int:
        """What these variables and the parent shells' take together."""
        return self.size + self.base


@dataclass
class Shell(Expansion):
    ctx: ToolContext
    dialect: Dialect
    traits: object = None                  # _images.Traits of the image
    vars: _Vars = field(default_factory=_Vars)
    exported: set = field(default_factory=set)
    positional: list = field(default_factory=list)
    status: int = 0
    errexit: bool = False
    budget: _Budget = field(default_factory=_Budget)
    depth: int = 0
    loop_depth: int = 0
    pid: int = 1
    in_condition: int = 0
    jobs: JobTable = field(default_factory=JobTable)
    functions: dict = field(default_factory=dict)   # name -> body (a compound command)
    calls: int = 0                         # function calls under way
    last_job_pid: int | None = None        # $!
    _top_out: Sink = field(default_factory=NullSink)      # the exec's own stdout/stderr
    _top_err: Sink = field(default_factory=NullSink)

    @classmethod
    def for_context(cls, ctx: ToolContext, dialect: Dialect, traits=None, depth: int = 0,
                    base: int = 0) -> "Shell":
        sh = cls(ctx, dialect, traits, depth=depth)
        sh.vars = _Vars(ctx.memory, ctx.env, base)
        sh.exported = set(ctx.env)
        sh.vars.setdefault("IFS", " \t\n")
        sh.pid = 1 + depth
        return sh

    # -- entry points
    def run_script(self, src: str, io_: Io) -> int:
        with self.parsed(src, io_) as tree:
            if tree is None:
                return 2
            try:
                return self.exec_seq(tree, io_)
            except ShellExit as ex:
                return ex.code
            except _LoopControl:
                return self.status

    @contextlib.contextmanager
    def parsed(self, src: str, io_: Io):
        """The syntax tree of src (None after printing a syntax error), held against the
        exec's memory while it runs: unlike a real shell, which reads a script a command
        at a time, this one parses it whole, at about PARSE_COST bytes a character."""
        cost = PARSE_COST * len(src) if len(src) > 4096 and self.ctx.memory is not None else 0
        if cost:
            self.ctx.memory.hold(cost, self.vars.total)
        try:
            try:
                tree = Parser(src).parse()
            except ShellSyntaxError as err:
                io_.err.write(self.dialect.syntax_error(err))
                tree = None
            yield tree
        finally:
            if cost:
                self.ctx.memory.release(cost)

    def clone(self) -> "Shell":
        """A subshell: a copy of the state, with no jobs of its own yet."""
        return dataclasses.replace(self, vars=self.vars.copy(), exported=set(self.exported),
                                   positional=list(self.positional), jobs=JobTable(),
                                   functions=dict(self.functions))

    def check(self) -> None:
        if self.ctx.clock.monotonic() >= self.ctx.deadline:
            raise Timeout()
        if self.ctx.turn is not None:
            self.ctx.turn.tick()

    def need(self, n: int) -> None:
        """Room in the exec's memory for n more characters beside the variables, or OOM."""
        if self.ctx.memory is not None and n > 0:
            self.ctx.memory.need(n, self.vars.total)

    def _sink(self) -> BufferSink:
        """A buffer for a pipe or a command substitution, counted against the memory."""
        return BufferSink(limit=None, memory=self.ctx.memory)

    def _tick(self) -> None:
        self.budget.iterations += 1
        if self.budget.iterations > MAX_ITERATIONS:
            raise LimitExceeded(f"loop limit ({MAX_ITERATIONS} iterations) exceeded")
        self.check()

    # -- execution
    def exec_seq(self, seq: Seq, io_: Io) -> int:
        for item in seq.items:
            if item.background is not None:       # `cmd &` (jobs.py)
                self.last_job_pid = self.jobs.start(self, item, io_).pid
                self.status = 0
            else:
                self.exec_and_or(item, io_)
        return self.status

    def exec_and_or(self, node: AndOr, io_: Io) -> int:
        chain = [(None, node.first)] + node.rest
        last_run = 0
        for idx, (op, pipe) in enumerate(chain):
            if op == "&&" and self.status != 0 or op == "||" and self.status == 0:
                continue
            if idx < len(chain) - 1:
                self.in_condition += 1
                try:
                    self.exec_pipeline(pipe, io_)
                finally:
                    self.in_condition -= 1
            else:
                self.exec_pipeline(pipe, io_)
            last_run = idx
        if (self.errexit and self.status != 0 and not self.in_condition
                and last_run == len(chain) - 1 and not chain[-1][1].negate):
            raise ShellExit(self.status)
        return self.status

    def exec_pipeline(self, pipe: Pipeline, io_: Io) -> int:
        if len(pipe.cmds) == 1:
            self.exec_command(pipe.cmds[0], io_)
        else:
            data, held = io_.stdin, None
            for idx, cmd in enumerate(pipe.cmds):
                last = idx == len(pipe.cmds) - 1
                out = io_.out if last else self._sink()
                sub = self.clone()
                try:
                    code = sub.run_stage(cmd, Io(data, out, io_.err))
                finally:
                    if held is not None:       # the stage before is done with it
                        held.release()
                self.status = code
                if not last:
                    data, held = Input(out.getvalue()), out
        if pipe.negate:
            self.status = 0 if self.status else 1
        return self.status

    def exec_command(self, node, io_: Io) -> int:
        if isinstance(node, Simple):
            return self.exec_simple(node, io_)
        if isinstance(node, Redirected):
            io2 = self.apply_redirects(node.redirs, io_, getattr(node.node, "line", 1))
            if io2 is None:
                self.status = 1
                return 1
            return self.exec_command(node.node, io2)
        if isinstance(node, If):
            for cond, body in node.clauses:
                self.in_condition += 1
                try:
                    self.exec_seq(cond, io_)
                finally:
                    self.in_condition -= 1
                if self.status == 0:
                    return self.exec_seq(body, io_)
            if node.orelse is not None:
                return self.exec_seq(node.orelse, io_)
            self.status = 0
            return 0
        if isinstance(node, For):
            return self.exec_for(node, io_)
        if isinstance(node, While):
            return self.exec_while(node, io_)
        if isinstance(node, Group):
            if node.subshell:
                self.status = self.clone().run_stage(node.body, io_)
                return self.status
            return self.exec_seq(node.body, io_)
        if isinstance(node, FuncDef):
            self.functions[node.name] = node.body
            self.status = 0
            return 0
        raise TypeError(node)

    def call_function(self, argv: list, io_: Io) -> int:
        """A function runs in this shell with its own positional parameters; `return`
        ends it with its status."""
        saved, self.positional = self.positional, list(argv[1:])
        self.calls += 1
        try:
            self.exec_command(self.functions[argv[0]], io_)
        except _Return as ret:
            self.status = ret.code
        finally:
            self.calls -= 1
            self.positional = saved
        return self.status

    def run_stage(self, node, io_: Io) -> int:
        """Run a command in this subshell (a pipeline stage, `( ... )`) to its exit status;
        the jobs it started in the background end before it does."""
        try:
            if isinstance(node, Seq):
                self.exec_seq(node, io_)
            else:
                self.exec_command(node, io_)
            code = self.status
        except ShellExit as ex:
            code = ex.code
        except _LoopControl:
            code = self.status
        self.jobs.run_all()
        return code

    def _loop_body(self, body: Seq, io_: Io) -> str | None:
        try:
            self.exec_seq(body, io_)
        except _LoopControl as lc:
            if lc.levels > 1:
                lc.levels -= 1
                raise
            return lc.kind
        return None

    def exec_for(self, node: For, io_: Io) -> int:
        items = self.expand_words(node.words) if node.words is not None else list(self.positional)
        self.status = 0
        self.loop_depth += 1
        try:
            for item in items:
                self._tick()
                self.vars[node.var] = item
                if self._loop_body(node.body, io_) == "break":
                    break
        finally:
            self.loop_depth -= 1
        return self.status

    def exec_while(self, node: While, io_: Io) -> int:
        status = 0
        self.loop_depth += 1
        try:
            while True:
                self._tick()
                self.in_condition += 1
                try:
                    self.exec_seq(node.cond, io_)
                finally:
                    self.in_condition -= 1
                if (self.status == 0) == node.until:
                    break
                kind = self._loop_body(node.body, io_)
                status = self.status
                if kind == "break":
                    break
        finally:
            self.loop_depth -= 1
        self.status = status
        return status

    def exec_simple(self, node: Simple, io_: Io) -> int:
        self.check()
        self._cmd_status = None
        argv = self.expand_words(node.words)
        values = [(name, self.expand_nosplit(w)) for name, w in node.assigns]
        io2 = self.apply_redirects(node.redirs, io_, node.line) if node.redirs else io_
        if io2 is None:
            self.status = 1
            return 1
        if not argv:
            for name, value in values:
                self.vars[name] = value
            self.status = self._cmd_status if self._cmd_status is not None else 0
            return self.status
        if argv[0] in self.functions and argv[0] not in _SPECIAL_BUILTINS:
            for name, value in values:
                self.vars[name] = value
            self.status = self.call_function(argv, io2)
            return self.status
        builtin = BUILTINS.get(argv[0])
        if builtin is not None:
            for name, value in values:
                self.vars[name] = value
            self.status = builtin(self, argv, io2, node.line)
            return self.status
        extra = dict(values)
        self.status = self.run_external(argv, io2, node.line, extra)
        return self.status

    # -- external commands (tools and nested shells)
    def resolve(self, name: str) -> str | None:
        """The image command a name runs, or None when the image lacks it."""
        base = name
        if "/" in name:
            head, _, base = name.rpartition("/")
            if head not in _PATH_DIRS:
                return None
        return base if base in self.ctx.image.tools else None

    def tool_env(self, extra: dict | None = None) -> dict:
        env = {k: self.vars[k] for k in self.vars if k in self.exported}
        if extra:
            env.update(extra)
        return env

    def run_external(self, argv: list, io_: Io, line: int, extra: dict | None = None) -> int:
        name = self.resolve(argv[0])
        if name is None:
            io_.err.write(self.dialect.not_found(argv[0], line))
            return 127
        if name in _SHELLS:
            return self.run_nested_shell(name, argv, io_, extra)
        if name == "sleep" and self.jobs.pending:
            self.jobs.run_all()                 # the foreground waits: the jobs get their turn
        fn = TOOLS.get(name)
        if fn is None:
            io_.err.write(f"{self.dialect.prefix(line)}{argv[0]}: not simulated in the sandbox\n")
            return 126
        sub = dataclasses.replace(self.ctx, env=self.tool_env(extra), stdin=io_.stdin.read_all(),
                                  stdout=SinkText(io_.out), stderr=SinkText(io_.err))
        try:
            code = fn(sub, list(argv))
        except OutOfMemory:
            # The OOM killer picked the tool (it held the memory): the shell reports the
            # SIGKILL and goes on with $? = 137 (128 + 9).
            io_.err.write(self.killed_message(argv, line))
            return 137
        finally:
            self.ctx.waited = sub.waited        # simulated waits add up over a script
        return int(code or 0) & 0xFF

    def killed_message(self, argv: list, line: int) -> str:
        """What the shell prints when a foreground command dies of SIGKILL.

        dash and BusyBox ash print the signal's name alone; a non-interactive bash prints
        the job: `bash: line 1:    42 Killed                  sort big` (jobs.c
        notify_of_job_status: the pid in 5 columns, the status padded to 24)."""
        if not self.dialect.is_bash:
            return "Killed\n"
        self.pid += 1
        where = f"{self.dialect.argv0}: line {line}: "
        return f"{where}{self.pid + 40:5d} {'Killed':<24}{' '.join(argv)}\n"

    def run_nested_shell(self, name: str, argv: list, io_: Io, extra: dict | None = None) -> int:
        if self.depth >= MAX_DEPTH:
            raise LimitExceeded("shell nesting limit exceeded")
        kind = dialect_kind(self.traits, name)
        ctx = dataclasses.replace(self.ctx, env=self.tool_env(extra))
        sub = Shell.for_context(ctx, Dialect(kind, argv[0]), self.traits, self.depth + 1,
                                base=self.vars.total)
        sub.budget = self.budget
        sub._top_out, sub._top_err = io_.out, io_.err
        try:
            return sub.invoke(argv, io_)
        except OutOfMemory:                     # the child shell was the one killed
            io_.err.write(self.killed_message(argv, 1))
            return 137
        finally:
            self.ctx.waited = sub.ctx.waited

    def invoke(self, argv: list, io_: Io) -> int:
        """Run `sh [-e] [-c script [name [args...]]]`; without -c, the script is stdin."""
        args = list(argv[1:])
        script = None
        while args and args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
            opt = args.pop(0)
            if "e" in opt:
                self.errexit = True
            if "c" in opt:
                if not args:
                    io_.err.write(f"{self.dialect.argv0}: -c: option requires an argument\n")
                    return 2
                script = args.pop(0)
        if args and args[0] == "--":
            args.pop(0)
        if script is None:
            if args:
                path = args.pop(0)
                if path not in self.ctx.files:
                    io_.err.write(self._cannot_open(path))
                    return 127 if self.dialect.is_bash else 2
                script = self.ctx.files[path]
                self.dialect = Dialect(self.dialect.kind, self.dialect.argv0)
            else:
                script = io_.stdin.read_all()
        elif args:
            self.dialect = Dialect(self.dialect.kind, args.pop(0))
        self.positional = args
        code = self.run_script(script, io_)
        self.jobs.run_all()                     # the exec ends when its last job does
        return code

    def _cannot_open(self, path: str) -> str:
        if self.dialect.kind == "dash":
            return f"{self.dialect.argv0}: 0: cannot open {path}: No such file\n"
        if self.dialect.is_bash:
            return f"{self.dialect.argv0}: {path}: No such file or directory\n"
        return f"{self.dialect.argv0}: can't open '{path}': No such file or directory\n"

    # -- redirections
    def apply_redirects(self, redirs: list, io_: Io, line: int) -> Io | None:
        fds = {0: io_.stdin, 1: io_.out, 2: io_.err}
        for fd, op, word in redirs:
            target = self.expand_nosplit(word)
            if op in (">&", "<&"):
                if target == "-":
                    fds[fd] = NullSink() if fd else Input()
                elif target.isdigit() and int(target) in fds:
                    fds[fd] = fds[int(target)]
                else:
                    io_.err.write(f"{self.dialect.prefix(line)}{target}: Bad file descriptor\n")
                    return None
                continue
            if fd == "&":                       # bash &> and &>>
                sink = self._open_out(target, op == ">")
                fds[1] = fds[2] = sink
                continue
            if op in ("<", "<>"):
                if target == "/dev/null":
                    fds[fd] = Input()
                elif target in self.ctx.files:
                    fds[fd] = Input(self.ctx.files[target])
                else:
                    io_.err.write(self._open_error(target, line))
                    return None
                continue
            fds[fd] = self._open_out(target, op != ">>")
        return Io(fds[0] if isinstance(fds[0], Input) else Input(),
                  fds[1] if isinstance(fds[1], Sink) else NullSink(),
                  fds[2] if isinstance(fds[2], Sink) else NullSink())

    def _open_out(self, path: str, truncate: bool) -> Sink:
        if path in ("/dev/null",):
            return NullSink()
        if path in ("/dev/stdout",):
            return self._top_out
        if path in ("/dev/stderr",):
            return self._top_err
        if truncate or path not in self.ctx.files:
            if self.ctx.memory is not None:
                self.ctx.memory.release(text_size(self.ctx.files.get(path, "")))
            self.ctx.files[path] = ""
        return FileSink(self.ctx.files, path, self.ctx.memory)

    def _open_error(self, path: str, line: int) -> str:
        if self.dialect.kind == "dash":
            return f"{self.dialect.prefix(line)}cannot open {path}: No such file\n"
        if self.dialect.is_bash:
            return f"{self.dialect.prefix(line)}{path}: No such file or directory\n"
        return f"{self.dialect.argv0}: can't open '{path}': No such file or directory\n"
