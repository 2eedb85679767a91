"""The one error type raised for bad dataset input.

Every message names the file or the video and says what is wrong, so a user
can fix the data without reading the loader. ``TADDataError`` subclasses
``ValueError`` so generic handlers still catch it.
"""
from typing import List, Tuple


class TADDataError(ValueError):
    """Bad annotation or feature input (missing file, wrong shape, NaN...)."""


def summarize_bad_videos(bad: List[Tuple[str, str]], limit: int = 10) -> str:
    """One readable paragraph for a list of ``(video_name, reason)``."""
    lines = [f'  {name}: {reason}' for name, reason in bad[:limit]]
    if len(bad) > limit:
        lines.append(f'  ... and {len(bad) - limit} more')
    return '\n'.join(lines)
