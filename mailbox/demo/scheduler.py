"""Stories told in the order of time. Each is a coroutine with its own clock that waits for its
next moment with `at()`. The steps of one window of time run together (each story's clock set
to its own moment), so that their commits share a disk write; the next window starts once
every story has reached its next moment or its end. A story must not depend on another's
steps in the same window: the caller chooses windows for which that holds."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Coroutine
from datetime import datetime
from itertools import count
from typing import Any

from mailbox.clock import FixedClock


class TimeUp(Exception):
    """The story's next step lies after the end: it stops there, as real life would have."""


class Scheduler:
    def __init__(self, end: datetime, closes: Callable[[datetime], datetime]) -> None:
        self.end = end
        self.closes = closes  # the end of the window that starts at a moment
        self._queue: list[tuple[datetime, int, FixedClock, asyncio.Future[None]]] = []
        self._order = count()  # ties keep the order in which the moments were asked for
        self._running = 0  # stories that are neither waiting for a moment nor finished
        self._idle = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None

    def spawn(self, story: Coroutine[Any, Any, None]) -> None:
        self._running += 1
        task = asyncio.get_running_loop().create_task(self._guard(story))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def at(self, clock: FixedClock, moment: datetime) -> None:
        """Continue at `moment` (on the story's `clock`), after every earlier window."""
        if moment > self.end:
            raise TimeUp(moment)
        if moment < clock.now():
            raise ValueError(f"a story went back in time: {moment} < {clock.now()}")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (moment, next(self._order), clock, future))
        self._park()
        await future

    async def run(self) -> None:
        """Until every story has finished or reached the end; a story's error is raised here."""
        while True:
            await self._idle.wait()
            if self._error is not None:
                await self._cancel()
                raise self._error
            if not self._queue:
                return
            closes = self.closes(self._queue[0][0])
            self._idle.clear()
            while self._queue and self._queue[0][0] < closes:
                moment, _, clock, future = heapq.heappop(self._queue)
                clock.moment = moment
                self._running += 1
                future.set_result(None)

    async def _guard(self, story: Coroutine[Any, Any, None]) -> None:
        try:
            await story
        except TimeUp:
            pass
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            self._error = self._error or error
        finally:
            self._park()

    def _park(self) -> None:
        self._running -= 1
        if self._running == 0:
            self._idle.set()

    async def _cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
