"""gunicorn's gthread worker, with a connection's closing linger moved off its main thread (issue 15).

Found reading gunicorn 27.0.1's gthread.py after a 5000-socket bench: when 2500 websockets closed
at once, the arbiter logged WORKER TIMEOUT and killed a worker, dropping every socket left on it.
The worker's heartbeat (`notify()`) is its main loop's: one per pass. Each connection a thread is
done with comes back to that loop (`finish_request`, up to about 60 a pass), and one that is not
kept alive is closed there with `close_graceful`: shut the write side, then read until the peer's
FIN for up to 2 s. A websocket's client is slow to send that FIN when thousands close at once (the
bench's client process has 10,000 threads on the same 2 cores), so the main thread lingered up to
2 s per socket, 60 sockets a pass: past the 30 s timeout without a heartbeat.

Here the thread that served the connection lingers on it itself, as its last step, and the main
loop only counts it closed: the main thread's pass no longer depends on how quickly clients hang
up. (A websocket's thread has held the connection for hours; two more seconds cost nothing.)

And a late heartbeat is logged (`heartbeat late: ...`): the loop passes at least once a second when
idle (its poller's timeout), so a gap past LATE_BEAT_S means the main thread was held (starved of
the GIL among thousands of socket threads, or blocked), long before the arbiter's kill at `timeout`.
"""
from __future__ import annotations

import time

from gunicorn.workers.gthread import _DEFER, ThreadWorker

LATE_BEAT_S = 5.0


class FloorWorker(ThreadWorker):
    clock = staticmethod(time.monotonic)
    last_beat: float | None = None

    def notify(self):
        now = self.clock()
        if self.last_beat is not None and now - self.last_beat > LATE_BEAT_S:
            # self.timeout is half the arbiter's (gunicorn's own margin); the kill comes at cfg.timeout
            self.log.warning("heartbeat late: %.1f s since the last (the arbiter kills at %s s)", now - self.last_beat,
                             self.cfg.timeout)
        self.last_beat = now
        super().notify()

    def handle(self, conn):
        keep = super().handle(conn)
        if keep is _DEFER or keep:
            return keep  # waits on the main loop's poller for its next request, as gunicorn does
        conn.close(graceful=True)  # the linger, here in the connection's own thread
        conn.closed_by_thread = True
        return False

    def finish_request(self, conn, fs):
        if getattr(conn, "closed_by_thread", False):
            self.nr_conns -= 1  # the bookkeeping gunicorn does for a closed connection, nothing more
            return
        super().finish_request(conn, fs)
