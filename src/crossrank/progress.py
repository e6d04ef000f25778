"""Progress bars for long work (ingest, embedding, evaluation), drawn by rich on stderr."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")


def progress_bar(items: Iterable[T], description: str, enabled: bool = True, total: int | None = None) -> Iterator[T]:
    """Iterate `items`, drawing a bar with count and ETA when `enabled`."""
    if not enabled:
        yield from items
        return
    with new_progress() as progress:
        yield from progress.track(items, total=total, description=description)


def new_progress(enabled: bool = True) -> Progress:
    """A rich Progress on stderr with count, elapsed time and ETA columns (drawing nothing unless `enabled`)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
        disable=not enabled,
    )
