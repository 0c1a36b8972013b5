"""Which real shell an image has (`dialect_kind`) and how it words its errors (`Dialect`):
dash on Debian, BusyBox ash on Alpine and busybox, bash 4.x or 5.1+.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ShellSyntaxError


# ---------------------------------------------------------------- dialects

@dataclass
class Dialect:
    """Error-message style of one real shell. kind: dash, ash, bash4 or bash5."""
    kind: str
    argv0: str = "sh"

    @property
    def is_bash(self) -> bool:
        return self.kind.startswith("bash")

    def prefix(self, line: int) -> str:
        if self.kind == "dash":
            return f"{self.argv0}: {line}: "
        if self.kind == "bash5":
            return f"{self.argv0}: line {line}: "
        return f"{self.argv0}: "

    def not_found(self, name: str, line: int) -> str:
        if self.is_bash:
            return f"{self.prefix(line)}{name}: command not found\n"
        return f"{self.prefix(line)}{name}: not found\n"

    def syntax_error(self, err: ShellSyntaxError) -> str:
        if self.is_bash:
            where = f"{self.argv0}: -c: line {err.line}: "
            if err.token is None:
                return f"{where}syntax error: unexpected end of file\n"
            return (f"{where}syntax error near unexpected token `{err.token}'\n"
                    f"{where}`{err.text}'\n")
        if self.kind == "dash":
            what = "end of file" if err.token is None else f'"{err.token}"'
            exp = f' (expecting "{err.expecting}")' if err.expecting else ""
            return f"{self.argv0}: {err.line}: Syntax error: {what} unexpected{exp}\n"
        what = "end of file" if err.token is None else f'"{err.token}"'
        exp = f' (expecting "{err.expecting}")' if err.expecting else ""
        return f"{self.argv0}: syntax error: unexpected {what}{exp}\n"


def dialect_kind(traits, name: str) -> str:
    """Which real shell answers to `name` in an image."""
    if traits is None:
        return "bash5" if name == "bash" else "dash"
    if name == "bash":
        return traits.bash or "bash5"
    if name == "ash":
        return "ash"
    if name == "dash":
        return "dash"
    return traits.sh
