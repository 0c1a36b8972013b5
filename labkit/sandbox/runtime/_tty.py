"""The terminal's line discipline: what a pty in canonical mode does with typed bytes.

kubectl puts the learner's terminal in raw mode and sends every key as typed; the
container's pty echoes it and hands the shell whole lines (termios defaults: ICANON, ECHO,
ECHOE, ECHOCTL, ICRNL, ONLCR). So: Enter (CR, turned into NL) ends a line; Backspace (DEL
or ^H) erases a character, ^U the line, ^W a word; ^C is SIGINT (echoed `^C`); ^D on an
empty line is end of input, elsewhere it hands over the line so far; escape sequences (arrow
keys) are swallowed, since the shells here keep no history.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_LINE = 4095                 # N_TTY_BUF_SIZE - 1: a canonical line's room


@dataclass
class Typed:
    """What some typed bytes did: the echo to show, lines for the shell, signals."""
    echo: str = ""
    lines: list[str] = field(default_factory=list)
    interrupt: bool = False
    eof: bool = False


class LineDiscipline:
    def __init__(self) -> None:
        self.line = ""
        self._escape = ""               # an escape sequence being swallowed

    def receive(self, text: str) -> Typed:
        done = Typed()
        for ch in text:
            if self._escape:
                self._escape += ch
                # CSI: ESC [ params final-byte; SS3: ESC O x; else ESC x.
                if (len(self._escape) == 2 and ch not in "[O") or \
                        (len(self._escape) > 2 and ("@" <= ch <= "~")) or len(self._escape) > 16:
                    self._escape = ""
                continue
            if ch == "\x1b":
                self._escape = ch
            elif ch in "\r\n":
                done.echo += "\r\n"
                done.lines.append(self.line + "\n")
                self.line = ""
            elif ch in "\x7f\x08":
                if self.line:
                    erased = self.line[-1]
                    self.line = self.line[:-1]
                    done.echo += "\b \b" * (2 if _control(erased) else 1)
            elif ch == "\x15":          # ^U: kill the line
                done.echo += "".join("\b \b" * (2 if _control(c) else 1) for c in self.line)
                self.line = ""
            elif ch == "\x17":          # ^W: erase the word before the cursor
                kept = self.line.rstrip(" ")
                kept = kept[:len(kept) - len(kept.split(" ")[-1])] if kept else ""
                done.echo += "\b \b" * (len(self.line) - len(kept))
                self.line = kept
            elif ch == "\x03":          # ^C: SIGINT; the line so far is flushed
                done.echo += "^C"
                done.interrupt = True
                self.line = ""
            elif ch == "\x04":          # ^D
                if self.line:
                    done.lines.append(self.line)
                    self.line = ""
                else:
                    done.eof = True
                    return done
            elif ch == "\t" or ch >= " " or _control(ch):
                if len(self.line) >= MAX_LINE:
                    continue
                self.line += ch
                done.echo += f"^{chr(ord(ch) + 64)}" if _control(ch) else ch
        return done


def _control(ch: str) -> bool:
    """Control characters a pty echoes as ^X (ECHOCTL), tab and newline aside."""
    return ch < " " and ch not in "\t\n"


def onlcr(text: str) -> str:
    """Output through a pty: each NL becomes CR NL."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")
