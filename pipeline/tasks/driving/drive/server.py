"""The simulator's side of the socket: Socket.IO 4.x (Engine.IO 3) on a threaded WSGI server.

The simulator's Socket.IO client (Fabio Panettieri's, in udacity/self-driving-car-sim) opens
`ws://127.0.0.1:4567/socket.io/?EIO=4&transport=websocket`: a WebSocket from the first
request, no long-polling, and it sends the pings (the old protocol, whatever its `EIO=4`
says). python-socketio 5.x / python-engineio 4.x do not serve that client, so 4.x / 3.x are
required and checked. The book serves it with eventlet; here engineio runs in threading mode
behind werkzeug's threaded server (no green threads next to TensorFlow's), and since
engineio 3.x has no WebSocket for threading mode, `_WebSocket` gives it one on
simple-websocket, as engineio 4.x does. Long-polling clients are served too.
Handlers run in the connection's thread (`async_handlers=False`): no thread per frame, and
the frames of one simulator are answered in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.tasks.driving.drive.driver import Driver

INSTALL = "`uv pip install -r requirements/drive.lock` (`make install-dev` installs it too)"


def check_socketio() -> None:
    """A one-line error unless the old protocol's packages are installed (the `drive` extra)."""
    for package, major in (
        ("python-socketio", "4"),
        ("python-engineio", "3"),
        ("simple-websocket", None),
    ):
        try:
            found = version(package)
        except PackageNotFoundError:
            raise PipelineError(f"`pipeline drive` needs {package}: {INSTALL}") from None
        if major is not None and found.split(".")[0] != major:
            raise PipelineError(
                f"{package} {found} is installed, but the simulator speaks the old Socket.IO "
                f"protocol that only {package} {major}.x serves: {INSTALL}"
            )


class _DaemonThread(threading.Thread):
    """engineio 3.x's threads (its client monitor runs forever) must not keep the process
    alive after Ctrl-C."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs, daemon=True)


class _Ended:
    """What a WSGI server gets once a WebSocket is over: nothing to write, the connection is
    gone (werkzeug would otherwise write an empty HTTP response and log that as an error)."""

    def __iter__(self) -> Iterator[bytes]:
        raise ConnectionResetError("the WebSocket connection has ended")


class _WebSocket:
    """engineio 3.x's WebSocket interface (eventlet's) over simple-websocket."""

    max_message_bytes = 16 << 20  # a frame is some 20 KB of base64

    def __init__(self, handler: Callable[[Any], Any]) -> None:
        self.handler = handler

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        import simple_websocket

        self.ws = simple_websocket.Server(
            environ, max_message_size=self.max_message_bytes, thread_class=_DaemonThread
        )
        self.handler(self)
        return _Ended()

    def close(self) -> None:
        if self.ws.connected:
            self.ws.close()

    def send(self, message: str | bytes) -> None:
        import simple_websocket

        try:
            self.ws.send(message)
        except simple_websocket.ConnectionClosed:
            raise OSError("the simulator closed the connection") from None

    def wait(self) -> str | bytes | None:
        import simple_websocket

        try:
            return self.ws.receive()
        except simple_websocket.ConnectionClosed:
            return None


def _quiet_handler() -> type:
    """werkzeug's request handler without its line per request (several per frame)."""
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    return QuietHandler


class DriveServer:
    """`driver` behind Socket.IO on `host:port` (port 0: a free one, see `.port`)."""

    def __init__(
        self,
        driver: Driver,
        host: str = "127.0.0.1",
        port: int = 4567,
        say: Callable[[str], None] = lambda message: None,
    ) -> None:
        check_socketio()
        import socketio
        from werkzeug.serving import make_server

        self.driver = driver
        sio = socketio.Server(
            async_mode="threading", async_handlers=False, always_connect=True, logger=False
        )
        # this server's drivers only: daemon threads, and a WebSocket for threading mode
        sio.eio._async = {**sio.eio._async, "thread": _DaemonThread, "websocket": _WebSocket}

        def answer(sid: str, reply: tuple[str, dict[str, str]]) -> None:
            sio.emit(reply[0], reply[1], room=sid)

        def connect(sid: str, environ: dict[str, Any]) -> None:
            say(f"simulator connected from {environ.get('REMOTE_ADDR', '?')}")
            answer(sid, driver.connect())

        def disconnect(sid: str) -> None:
            say("simulator disconnected")

        sio.on("connect", connect)
        sio.on("disconnect", disconnect)
        sio.on("telemetry", lambda sid, data=None: answer(sid, driver.telemetry(data)))
        sio.on("manual", lambda sid, *data: answer(sid, driver.manual()))
        try:
            self._http = make_server(
                host, port, socketio.WSGIApp(sio), threaded=True, request_handler=_quiet_handler()
            )
        except OSError as err:
            raise PipelineError(
                f"cannot listen on {host}:{port} ({err.strerror or err}): is another drive "
                "server running? Stop it or pass --port (the simulator connects to 4567)"
            ) from None

    @property
    def port(self) -> int:
        return int(self._http.server_port)

    def serve_forever(self) -> None:
        """Answer until `shutdown()` or Ctrl-C (werkzeug returns on KeyboardInterrupt)."""
        self._http.serve_forever()

    def shutdown(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    @contextmanager
    def running(self) -> Iterator[DriveServer]:
        """Serve in a background thread for the block (tests, the bench)."""
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            thread.join(timeout=10)
            self._http.server_close()
