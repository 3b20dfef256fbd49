"""A local OpenAI-compatible endpoint for the pilot: ``transformers serve``'s own FastAPI app, with a gate in front.

The app is the one ``transformers serve <folder>`` runs (FastAPI + uvicorn, model pinned and loaded before
the port opens, so ``/health`` answering means ready). Two things are added in front of it, as a plain
ASGI wrapper:

* **request checks**: a malformed chat request (not JSON, no ``messages``, wrong types) gets a 400 whose
  message names the field, where the stock app would answer 422 without a word or fail with a 500;
* **the pilot log**: every answered conversation is appended to ``pilot_log.jsonl``, PII redacted, with
  the model version (see :mod:`helpers.ship.pilot_log`).

The notebook starts it in its own process with :class:`ServedModel` (bound to 127.0.0.1, a free port,
health-polled with a timeout, always stopped: context manager and ``atexit``)::

    python -m helpers.ship.serve runs/demo/ship/merged --port 8011 --pilot-log runs/demo/ship/pilot_log.jsonl \\
        --model-version demo/dpo@3fa9c1e2b4d5
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence

from ..core.paths import COURSE_DIR

CHAT_PATH = "/v1/chat/completions"
ROLES = ("system", "user", "assistant")
HOST = "127.0.0.1"
MAX_BODY_BYTES = 1_000_000


class ServerError(RuntimeError):
    """The server did not come up; the message holds the end of its log."""


# ---------------------------------------------------------------- request checks (pure)
def message_text(content: Any) -> str | None:
    """The text of a message's content: a string, or OpenAI's list of text parts; None when it is neither."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text"
                                         and isinstance(p.get("text"), str) for p in content):
        return " ".join(p["text"] for p in content)
    return None


def request_problem(raw: bytes) -> str | None:
    """What is wrong with a chat-completions request body, in one sentence naming the field; None if nothing."""
    if len(raw) > MAX_BODY_BYTES:
        return f"the request body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted"
    try:
        body = json.loads(raw or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return f"the request body is not valid JSON ({exc}); send a JSON object with 'messages'"
    if not isinstance(body, dict):
        return f"the request body must be a JSON object, got {type(body).__name__}"
    messages = body.get("messages")
    if messages is None:
        return "'messages' is required: a list of {'role': 'system'|'user'|'assistant', 'content': '...'}"
    if not isinstance(messages, list) or not messages:
        return f"'messages' must be a non-empty list, got {type(messages).__name__}"
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages[{i}] must be an object with 'role' and 'content', got {type(message).__name__}"
        if message.get("role") not in ROLES:
            return f"messages[{i}].role must be one of {', '.join(ROLES)}, got {message.get('role')!r}"
        if message_text(message.get("content")) is None:
            return (f"messages[{i}].content must be a string (or a list of text parts), "
                    f"got {type(message.get('content')).__name__}")
    if messages[-1]["role"] != "user":
        return f"the last message must be the user's, got role {messages[-1]['role']!r}"
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            return f"'{name}' must be a positive integer, got {value!r}"
    value = body.get("temperature")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2):
        return f"'temperature' must be a number from 0 to 2, got {value!r}"
    if "stream" in body and not isinstance(body["stream"], bool):
        return f"'stream' must be true or false, got {body['stream']!r}"
    return None


def answer_text(body: bytes, streamed: bool) -> tuple[str, int | None]:
    """The assistant's text and completion-token count from a chat-completions response (JSON or SSE)."""
    if not streamed:
        data = json.loads(body or b"{}")
        choices = data.get("choices") or [{}]
        return (choices[0].get("message") or {}).get("content") or "", (data.get("usage") or {}).get(
            "completion_tokens")
    parts, tokens = [], None
    for line in body.decode("utf-8", "replace").splitlines():
        if not line.startswith("data: ") or line.strip() == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        for choice in chunk.get("choices") or []:
            parts.append((choice.get("delta") or {}).get("content") or "")
        tokens = (chunk.get("usage") or {}).get("completion_tokens", tokens)
    return "".join(parts), tokens


# ---------------------------------------------------------------- the ASGI gate
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class PilotGate:
    """ASGI wrapper: checks chat requests (400 with a message) and logs every answered conversation."""

    def __init__(self, app: Any, pilot_log: Path | None, model_version: str):
        self.app, self.pilot_log, self.model_version = app, pilot_log, model_version

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != CHAT_PATH:
            await self.app(scope, receive, send)
            return
        raw = await _read_body(receive)
        problem = request_problem(raw)
        if problem:
            await _json(send, 400, {"error": {"message": problem, "type": "invalid_request_error", "code": 400}})
            return
        start, status, chunks = time.perf_counter(), [0], []

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        if status[0] == 200 and self.pilot_log is not None:
            from .pilot_log import append_record

            body = json.loads(raw)
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            answer, tokens = answer_text(b"".join(chunks), bool(body.get("stream")))
            append_record(self.pilot_log, body["messages"], answer, self.model_version,
                          conversation_id=headers.get("x-conversation-id") or headers.get("x-request-id", ""),
                          seconds=time.perf_counter() - start, completion_tokens=tokens)


async def _read_body(receive: Receive) -> bytes:
    """The whole request body."""
    parts, more = [], True
    while more:
        message = await receive()
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(parts)


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    """Send a JSON response."""
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def build_app(model_dir: Path, pilot_log: Path | None, model_version: str) -> Any:
    """``transformers serve``'s app with ``model_dir`` loaded and pinned, behind :class:`PilotGate`."""
    from transformers.cli.serve import Serve

    class BuildOnly(Serve):
        """The CLI's server, assembled but not started: we start it, with the gate in front."""

        def start_server(self) -> None:
            return None

    served = BuildOnly(str(model_dir), host=HOST, port=0, non_blocking=True, log_level="warning")
    return PilotGate(served.server.config.app, pilot_log, model_version)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: serve a merged model folder on 127.0.0.1 until stopped."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pilot-log", default="")
    parser.add_argument("--model-version", default="")
    args = parser.parse_args(argv)
    app = build_app(Path(args.model_dir), Path(args.pilot_log) if args.pilot_log else None,
                    args.model_version or Path(args.model_dir).name)
    uvicorn.run(app, host=HOST, port=args.port, log_level="warning")


# ---------------------------------------------------------------- starting and stopping it from a notebook
def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen | None, timeout: float) -> str | None:
    """Poll ``url`` until it answers 200 (None), or say why not: the process exited, or the timeout passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is None or process.poll() is not None:
            return f"exited with code {process and process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return None
        except OSError:
            time.sleep(0.5)
    return f"did not answer {url.split('?')[0]} within {timeout:.0f} s"


class ServedModel:
    """The endpoint in a child process: ``with ServedModel(...) as server: server.url``; always stopped."""

    def __init__(self, model_dir: Path, pilot_log: Path | None, model_version: str, log_path: Path,
                 port: int | None = None, timeout: float = 180.0):
        self.model_dir, self.pilot_log, self.model_version = Path(model_dir), pilot_log, model_version
        self.log_path, self.port, self.timeout = Path(log_path), port or free_port(), timeout
        self.process: subprocess.Popen | None = None
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        """Base URL of the OpenAI-compatible API (append /chat/completions)."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def model(self) -> str:
        """The model id requests name (the server is pinned to it)."""
        return str(self.model_dir)

    def start(self) -> "ServedModel":
        """Start the server and wait until /health answers, or raise ServerError with its log."""
        if not (self.model_dir / "config.json").exists():
            raise ServerError(f"{self.model_dir} holds no model: export the merged model first (section 3)")
        command = [sys.executable, "-m", "helpers.ship.serve", str(self.model_dir), "--port", str(self.port),
                   "--model-version", self.model_version]
        if self.pilot_log is not None:
            command += ["--pilot-log", str(self.pilot_log)]
        repo = str(COURSE_DIR)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
        atexit.register(self.stop)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - start
        return self

    def _wait_healthy(self) -> None:
        """Poll /health until it answers 200; ServerError if the process dies or the timeout passes."""
        failure = wait_until_up(f"http://{HOST}:{self.port}/health", self.process, self.timeout)
        if failure:
            raise ServerError(f"the server {failure}; its log ({self.log_path}) ends with:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:]) \
            if self.log_path.exists() else "(no log)"

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> "ServedModel":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


if __name__ == "__main__":
    main()
