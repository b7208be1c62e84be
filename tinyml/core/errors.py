"""One exception tree for the whole tool; each class carries its CLI exit code.

Messages name the file, op, layer or byte at fault and say what to do.
"""
import errno


class TinymlError(Exception):
    """Base of every error the tool reports to a user (never a bare traceback)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(TinymlError):
    """A config file or option is missing, mistyped or out of range."""

    exit_code = 2


class DataError(TinymlError):
    """A dataset path, folder, file or download is missing or corrupt."""

    exit_code = 3


class BudgetError(TinymlError):
    """No model fits the parameter/MAC/byte budget, or a board's flash/RAM."""

    exit_code = 4


class ModelError(TinymlError):
    """A model file is unreadable, not int8, or uses an unsupported op."""

    exit_code = 5


class UnsupportedOpError(ModelError):
    """An op (or op option) a runtime cannot execute."""

    def __init__(self, op: str, message: str, hint: str | None = None,
                 tensor: str | None = None, layer: str | None = None):
        super().__init__(message, hint)
        self.op = op
        self.tensor = tensor
        self.layer = layer


class CheckError(TinymlError):
    """A host check failed: runtimes disagree, accuracy is out of bounds."""

    exit_code = 6


class BuildError(TinymlError):
    """Code generation, compilation or a firmware build failed."""

    exit_code = 7


class DeviceError(TinymlError):
    """A device, emulator or transport misbehaved or answered with an error."""

    exit_code = 8


class ToolMissingError(TinymlError):
    """An external tool (compiler, emulator, PlatformIO) is not installed."""

    exit_code = 9


class SystemIOError(TinymlError):
    """The operating system refused a file operation: full disk, read-only or
    missing folder, no permission."""

    exit_code = 10


class RunBusyError(TinymlError):
    """Another process holds the run folder (or the serial port) this command needs."""

    exit_code = 11


_IO_HINTS = {errno.ENOSPC: "free some disk space, or point --runs-dir / --project elsewhere",
             errno.EROFS: "the folder is read-only: choose a writable --runs-dir / --project",
             errno.EACCES: "no permission: choose a folder you can write, or fix its permissions",
             errno.ENOTDIR: "a path component is a file, not a folder: check --runs-dir / --project"}


def first_line(e: BaseException, limit: int | None = 200) -> str:
    """The first line of a third-party exception's message (its type name if it has none),
    for a one-line error that wraps it."""
    s = str(e).strip()
    line = s.splitlines()[0] if s else type(e).__name__
    return line[:limit] if limit else line


def from_os_error(e: OSError) -> SystemIOError:
    """One clear line for an OSError (no traceback), naming the file."""
    # A copy that fails on a full disk names its source first; the culprit is the target.
    name = e.filename2 if e.filename2 and e.errno in (errno.ENOSPC, errno.EROFS) else e.filename
    where = f": {name}" if name else ""
    return SystemIOError(f"{e.strerror or e}{where}", hint=_IO_HINTS.get(e.errno))
