"""The sandbox shell's builtins (echo, test, read, set, cd, command, eval...), each
called as fn(shell, argv, io, line) and returning the exit status; `BUILTINS` maps names.
"""
from __future__ import annotations

import re

from .._images import tool_path
from .errors import ShellExit, _LoopControl, _Return
from .io import text_size
from .jobs import jobs_builtin, wait_builtin


# ---------------------------------------------------------------- builtins

def _basic():
    from ..tools import shellutils      # the echo, printf and test of the image's tools
    return shellutils


def _b_true(sh, argv, io_, line):
    return 0


def _b_false(sh, argv, io_, line):
    return 1


def _b_echo(sh, argv, io_, line):
    sh.need(sum(map(text_size, argv)))
    io_.out.write(_basic().echo_text(argv[1:], "dash" if sh.dialect.kind == "dash" else "bash"))
    return 0


def _b_printf(sh, argv, io_, line):
    room = sh.ctx.memory.room(sh.vars.total) if sh.ctx.memory is not None else None
    out, err, code = _basic().printf_text(argv[1:], room)
    io_.out.write(out)
    if err:
        io_.err.write(f"{sh.dialect.prefix(line)}printf: {err}\n")
    return code


def _b_test(sh, argv, io_, line):
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            io_.err.write(f"{sh.dialect.prefix(line)}[: missing "
                          f"{'`]' + chr(39) if sh.dialect.is_bash else ']'}\n")
            return 2
        args = args[:-1]
    code, msg = _basic().test_eval(args, sh.ctx.files, sh.dialect.kind)
    if msg:
        io_.err.write(f"{sh.dialect.prefix(line)}{argv[0]}: {msg}\n")
    return code


def _b_exit(sh, argv, io_, line):
    if len(argv) > 1:
        if not re.fullmatch(r"-?\d+", argv[1]):
            if sh.dialect.kind == "dash":
                io_.err.write(f"{sh.dialect.prefix(line)}exit: Illegal number: {argv[1]}\n")
            else:
                io_.err.write(f"{sh.dialect.prefix(line)}exit: {argv[1]}: numeric argument required\n")
            raise ShellExit(2)
        raise ShellExit(int(argv[1]) & 0xFF)
    raise ShellExit(sh.status)


def _b_export(sh, argv, io_, line):
    for arg in argv[1:]:
        if arg == "-p":
            for k in sorted(sh.exported):
                if k in sh.vars:
                    io_.out.write(f"export {k}='{sh.vars[k]}'\n")
            continue
        name, eq, value = arg.partition("=")
        if eq:
            sh.vars[name] = value
        sh.exported.add(name)
    return 0


def _b_unset(sh, argv, io_, line):
    for name in argv[1:]:
        if name.startswith("-"):
            continue
        sh.vars.pop(name, None)
        sh.exported.discard(name)
    return 0


def _b_set(sh, argv, io_, line):
    args = argv[1:]
    if not args:
        for k in sorted(sh.vars):
            io_.out.write(f"{k}='{sh.vars[k]}'\n")
        return 0
    while args:
        arg = args.pop(0)
        if arg == "--":
            sh.positional = args
            return 0
        if arg.startswith(("-", "+")) and len(arg) > 1:
            if "e" in arg:
                sh.errexit = arg[0] == "-"
            continue
        sh.positional = [arg] + args
        return 0
    return 0


def _b_shift(sh, argv, io_, line):
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.positional):
        if sh.dialect.kind == "dash":
            io_.err.write(f"{sh.dialect.prefix(line)}shift: can't shift that many\n")
            raise ShellExit(2)
        return 1
    sh.positional = sh.positional[n:]
    return 0


def _loop_builtin(kind):
    def builtin(sh, argv, io_, line):
        n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
        if sh.loop_depth == 0:
            return 0
        raise _LoopControl(kind, max(1, min(n, sh.loop_depth)))
    return builtin


def _b_return(sh, argv, io_, line):
    code = int(argv[1]) & 0xFF if len(argv) > 1 and argv[1].lstrip("-").isdigit() else sh.status
    if sh.calls:
        raise _Return(code)
    # Outside a function: bash refuses; dash and BusyBox ash end the script, as `exit` would.
    if sh.dialect.is_bash:
        io_.err.write(f"{sh.dialect.prefix(line)}return: can only `return' from a function or sourced script\n")
        return 1
    raise ShellExit(code)


def _b_read(sh, argv, io_, line):
    args = [a for a in argv[1:] if not a.startswith("-")]
    raw = "-r" in argv[1:]
    text = io_.stdin.readline()
    if text is None:
        for name in args or ["REPLY"]:
            sh.vars[name] = ""
        return 1
    ended = text.endswith("\n")
    text = text[:-1] if ended else text
    if not raw:
        text = re.sub(r"\\(.)", r"\1", text)
    names = args or ["REPLY"]
    if not args:
        sh.vars["REPLY"] = text
        return 0 if ended else 1
    pieces = text.strip(" \t").split(None, len(names) - 1) if text.strip() else []
    for i, name in enumerate(names):
        sh.vars[name] = pieces[i] if i < len(pieces) else ""
    return 0 if ended else 1


def _b_cd(sh, argv, io_, line):
    target = argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/root")
    known = {"/", "/tmp", "/etc", "/root", "/bin", "/usr", "/usr/bin", "/var", "/home"}
    if target not in known and not any(f.startswith(target.rstrip("/") + "/") for f in sh.ctx.files):
        if sh.dialect.kind == "dash":
            io_.err.write(f"{sh.dialect.prefix(line)}cd: can't cd to {target}\n")
            return 2
        if sh.dialect.is_bash:
            io_.err.write(f"{sh.dialect.prefix(line)}cd: {target}: No such file or directory\n")
            return 1
        io_.err.write(f"{sh.dialect.argv0}: cd: can't cd to {target}: No such file or directory\n")
        return 2
    sh.vars["PWD"] = target
    return 0


def _b_pwd(sh, argv, io_, line):
    io_.out.write(sh.vars.get("PWD", "/") + "\n")
    return 0


def _b_command(sh, argv, io_, line):
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        code = 0
        for name in args[1:]:
            if name in BUILTINS:
                io_.out.write(name + "\n" if args[0] == "-v" else f"{name} is a shell builtin\n")
            elif sh.resolve(name):
                path = tool_path(sh.ctx.image, sh.resolve(name))
                io_.out.write(path + "\n" if args[0] == "-v" else f"{name} is {path}\n")
            else:
                code = 1 if args[0] == "-v" else 127
        return code
    if not args:
        return 0
    return sh.run_external(args, io_, line)


def _b_type(sh, argv, io_, line):
    code = 0
    for name in argv[1:]:
        if name in BUILTINS:
            io_.out.write(f"{name} is a shell builtin\n")
        elif sh.resolve(name):
            io_.out.write(f"{name} is {tool_path(sh.ctx.image, sh.resolve(name))}\n")
        else:
            if sh.dialect.is_bash:
                io_.err.write(f"{sh.dialect.prefix(line)}type: {name}: not found\n")
                code = 1
            else:
                io_.out.write(f"{name}: not found\n")
                code = 127
    return code


def _b_eval(sh, argv, io_, line):
    src = " ".join(argv[1:])
    with sh.parsed(src, io_) as tree:
        return 2 if tree is None else sh.exec_seq(tree, io_)


def _b_exec(sh, argv, io_, line):
    if len(argv) == 1:
        return 0
    raise ShellExit(sh.run_external(argv[1:], io_, line))


BUILTINS = {
    ":": _b_true, "true": _b_true, "false": _b_false, "echo": _b_echo, "printf": _b_printf,
    "test": _b_test, "[": _b_test, "exit": _b_exit, "export": _b_export, "unset": _b_unset,
    "set": _b_set, "shift": _b_shift, "break": _loop_builtin("break"),
    "continue": _loop_builtin("continue"), "read": _b_read, "cd": _b_cd, "pwd": _b_pwd,
    "command": _b_command, "type": _b_type, "eval": _b_eval, "exec": _b_exec,
    "wait": wait_builtin, "jobs": jobs_builtin, "return": _b_return,
}
