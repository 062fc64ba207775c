"""The ``tryon3d`` command line. Each command lives in its own ``_cli_*`` module.

Errors a user can fix print one line on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import NoReturn

# Sub-command modules; each defines ``register(subparsers)``. Heavy imports happen inside
# the command functions so that ``--help`` stays fast.
_COMMAND_MODULES = (
    "tryon3d._cli_body",
    "tryon3d._cli_garments",
    "tryon3d._cli_drape",
    "tryon3d._cli_render",
    "tryon3d._cli_report",
    "tryon3d._cli_study",
    "tryon3d._cli_measure",
)

EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_GATES = 3

EXIT_CODES_HELP = """exit codes:
  0  success
  1  internal error (a bug: rerun with -v and report it)
  2  bad input, refused file, a limit exceeded, or an unwritable output (one line on stderr)
  3  a drape failed its quality gates (penetration, self-intersection, open seams, not
     converged): its files are written for inspection, the failing gates are named on stderr
  130 interrupted (Ctrl-C)

limits (environment variables): TRYON3D_MAX_PHOTO_PIXELS, TRYON3D_MAX_GARMENT_BYTES,
TRYON3D_MAX_GARMENT_FACES, TRYON3D_MAX_SIDE_FILE_BYTES, TRYON3D_MAX_DXF_ENTITIES,
TRYON3D_MAX_TEXTURE_PIXELS, TRYON3D_MAX_MODEL_BYTES, TRYON3D_MAX_DRAPE_BYTES; see SECURITY.md."""


def gates_failure(gates) -> str | None:
    """One line naming each failed gate of a ``sim.DrapeGates``, or None when all passed."""
    if gates.passed:
        return None
    return "; ".join(gates.reasons())


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tryon3d",
        description="3D virtual try-on: bodies, garments, draping, renders and size-fit reports.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log details and show tracebacks"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


class _CurrentStderr(logging.StreamHandler):
    """A log handler that writes to whatever ``sys.stderr`` is at the time of each record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while Python's ``sys.stderr`` keeps the real one.

    Native libraries write notices straight to fd 2, past Python: Warp's "could not load the
    CUDA driver" on CPU machines, MediaPipe/TFLite's delegate and feedback-tensor lines. Our
    own messages, progress bars and errors go through ``sys.stderr`` and still show.
    """
    try:
        sys.stderr.flush()
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced by an in-memory stream
        yield
        return
    saved = os.dup(fd)
    python_stderr = os.fdopen(
        saved,
        "w",
        buffering=1,
        encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
        errors="backslashreplace",
    )
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    previous, sys.stderr = sys.stderr, python_stderr
    try:
        yield
    finally:
        python_stderr.flush()
        os.dup2(saved, fd)
        sys.stderr = previous
        python_stderr.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    if not logging.getLogger().handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("tryon3d").setLevel(level)  # our progress only; libraries stay at warnings
    # -v keeps the native libraries' own notices (they can help diagnose a GPU or photo problem)
    with contextlib.nullcontext() if args.verbose else native_stderr_silenced():
        return _run(args)


def console_main() -> NoReturn:
    """The ``tryon3d`` command: ``main()``, then exit without the interpreter's teardown.

    A fit report leaves about a million objects (torch, anny, Warp, Newton, Mitsuba) that a
    normal exit collects and frees one by one: 2.6-3.7 s for nothing, as the process ends
    anyway. The atexit handlers (and weakref finalizers) still run and the streams are flushed;
    then ``os._exit``. Only for the command: ``main()`` itself returns normally.
    """
    code = main()
    try:
        atexit._run_exitfuncs()  # what a normal exit would run: temp-dir finalizers, logging
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _run(args: argparse.Namespace) -> int:
    from tryon3d._files import release_locks

    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, OSError) as exc:
        # OSError: what the system refused about a path the user gave (too long, no access,
        # full disk, read-only file system); the message names the file
        if args.verbose:
            raise
        if isinstance(exc, OSError) and exc.strerror:
            message = f"{exc.strerror}: {exc.filename!s}" if exc.filename else exc.strerror
        else:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"tryon3d: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tryon3d: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line unless -v asks for the traceback
        if args.verbose:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"tryon3d: internal error: {type(exc).__name__}: {first} (rerun with -v for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        release_locks()
