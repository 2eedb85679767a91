"""How every tool in ``tools/`` reports a problem the user has to fix.

Bad input (a dataset error, a work dir that cannot take output, an
incompatible install, a wrong option) is printed as one readable block on
stderr, and the tool exits with status 1; a traceback would only bury the
message. ``--debug`` shows the full traceback instead (it is also written to
the run's MMEngine log file when one is open). Any other exception is a bug
and keeps its traceback.

Adopting it in a tool (e.g. ``tools/extract_features.py``)::

    from asl_mmaction.utils.cli import ToolError, add_debug_arg, run_main

    def parse_args(argv=None):
        parser = argparse.ArgumentParser(...)
        add_debug_arg(parser)            # accepts --debug
        return parser.parse_args(argv)

    def main(argv=None) -> int:
        args = parse_args(argv)
        if not osp.isdir(args.video_dir):
            raise ToolError(f'{args.video_dir}: no such folder')
        ...
        return 0

    if __name__ == '__main__':
        sys.exit(run_main(main))

Raise :class:`ToolError` (or ``TADDataError`` for dataset input) with a
message that names the file / video / row and says what is wrong.
"""
import argparse
import logging
import os
import re
import sys
import traceback
from typing import Callable, List, Optional, Sequence, Tuple, Type

# MMEngine's build_from_cfg re-raises with "class `X` in module.path: ".
_BUILD_PREFIX = re.compile(r'^(class `\w+` in [\w.]+: )+')


class ToolError(ValueError):
    """A problem with a tool's arguments or inputs that the user fixes."""


def user_error_types() -> Tuple[Type[BaseException], ...]:
    """The exception types printed as a message rather than a traceback."""
    from asl_mmaction.datasets.tad_errors import TADDataError
    from .compat import IncompatibleInstallError
    from .work_dir import WorkDirError
    return (TADDataError, WorkDirError, IncompatibleInstallError, ToolError)


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    """``--debug``: show the traceback of an error (read by
    :func:`run_main` from the command line)."""
    parser.add_argument('--debug', action='store_true',
                        help='print the full traceback of an error')


def format_error(exc: BaseException, log_files: Sequence[str] = ()) -> str:
    """The block a tool prints for ``exc``: its type and message (without
    MMEngine's build prefix), and where the traceback is."""
    message = _BUILD_PREFIX.sub('', str(exc)).strip() or repr(exc)
    lines = [f'ERROR ({type(exc).__name__}): {message}']
    hint = 'run again with --debug for the full traceback'
    if log_files:
        hint = f'traceback in {", ".join(log_files)}; or {hint}'
    lines.append(f'({hint})')
    return '\n'.join(lines)


def _log_traceback(exc: BaseException) -> List[str]:
    """Write the traceback into the file handlers of the current MMEngine
    logger, if a run opened one; returns their paths."""
    try:
        from mmengine.logging import MMLogger
        if not MMLogger._instance_dict:
            return []
        logger = MMLogger.get_current_instance()
    except Exception:  # no logger: nothing to write into
        return []
    text = ''.join(traceback.format_exception(type(exc), exc,
                                              exc.__traceback__))
    paths = []
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.stream.write(text)
            handler.flush()
            paths.append(handler.baseFilename)
    return paths


def run_main(main: Callable, argv: Optional[Sequence[str]] = None) -> int:
    """Call ``main()`` (or ``main(argv)``) and return the exit status.

    Returns ``main``'s integer result (anything else counts as 0); a user
    error (see
    :func:`user_error_types`) prints :func:`format_error` on stderr and
    returns 1, unless ``--debug`` is on the command line (or ``ASL_DEBUG=1``
    in the environment), which lets it propagate with its traceback.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    debug = '--debug' in args or os.environ.get('ASL_DEBUG') == '1'
    try:
        status = main() if argv is None else main(list(argv))
    except user_error_types() as exc:
        if debug:
            raise
        print(format_error(exc, _log_traceback(exc)), file=sys.stderr)
        return 1
    return int(status) if isinstance(status, int) else 0
