"""A bounded load test of the OpenAI-compatible endpoint, and the malformed requests it must refuse.

N clients (threads, each with the ``openai`` client, no retries) send requests at once. Every loop is
bounded twice: at most ``requests_per_client`` requests, and none started after ``time_limit`` seconds;
each request has its own timeout. The result has latency percentiles (p50, p95), generated tokens per
second (all clients together, over the wall time), and every error with its message.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.runs import write_json


@dataclass
class LoadTestResult:
    """What the load test measured."""

    clients: int
    requests_per_client: int
    max_tokens: int
    sent: int
    completed: int
    errors: int
    p50_seconds: float
    p95_seconds: float
    mean_seconds: float
    tokens_per_second: float
    completion_tokens: int
    wall_seconds: float
    error_messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for serve_load.json."""
        return asdict(self)


def _client_loop(client: Any, model: str, prompts: Sequence[list[dict[str, str]]], start: int, count: int,
                 deadline: float, max_tokens: int, conversation: str) -> list[dict[str, Any]]:
    """One client's requests: at most ``count``, none started after ``deadline``; one row per request sent."""
    rows = []
    for k in range(count):
        if time.monotonic() >= deadline:
            break
        messages = prompts[(start + k) % len(prompts)]
        began = time.perf_counter()
        try:
            reply = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens,
                                                   temperature=0.0,
                                                   extra_headers={"X-Conversation-Id": f"{conversation}-{k}"})
            tokens = reply.usage.completion_tokens if reply.usage else 0
            rows.append({"seconds": time.perf_counter() - began, "tokens": int(tokens or 0), "error": ""})
        except Exception as exc:  # every failure is counted and reported, never retried
            rows.append({"seconds": time.perf_counter() - began, "tokens": 0, "error": f"{type(exc).__name__}: {exc}"})
    return rows


def run_load_test(base_url: str, model: str, prompts: Sequence[list[dict[str, str]]], clients: int = 4,
                  requests_per_client: int = 4, max_tokens: int = 48, time_limit: float = 60.0,
                  request_timeout: float = 180.0) -> LoadTestResult:
    """Send ``clients x requests_per_client`` chat requests from ``clients`` concurrent clients and measure."""
    from openai import OpenAI

    if not prompts:
        raise ValueError("no prompts to send: pass at least one list of chat messages")
    api = OpenAI(base_url=base_url, api_key="local-pilot", max_retries=0, timeout=request_timeout)
    start = time.perf_counter()
    deadline = time.monotonic() + time_limit
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(_client_loop, api, model, prompts, c * requests_per_client, requests_per_client,
                               deadline, max_tokens, f"load-{c}") for c in range(clients)]
        rows = [row for f in futures for row in f.result()]
    wall = time.perf_counter() - start
    ok = [r for r in rows if not r["error"]]
    seconds = np.array([r["seconds"] for r in ok]) if ok else np.array([float("nan")])
    tokens = sum(r["tokens"] for r in ok)
    return LoadTestResult(
        clients=clients, requests_per_client=requests_per_client, max_tokens=max_tokens, sent=len(rows),
        completed=len(ok), errors=len(rows) - len(ok), p50_seconds=round(float(np.percentile(seconds, 50)), 4),
        p95_seconds=round(float(np.percentile(seconds, 95)), 4), mean_seconds=round(float(seconds.mean()), 4),
        tokens_per_second=round(tokens / wall, 2) if wall > 0 else 0.0, completion_tokens=tokens,
        wall_seconds=round(wall, 3), error_messages=[r["error"] for r in rows if r["error"]][:10])


MALFORMED: dict[str, bytes] = {
    "not JSON": b'{"messages": [{"role": "user", "content": "hi"}',
    "not an object": b'["hello"]',
    "no messages": b'{"max_tokens": 8}',
    "messages not a list": b'{"messages": "What is the wattage?"}',
    "message without content": b'{"messages": [{"role": "user"}]}',
    "content not a string": b'{"messages": [{"role": "user", "content": 42}]}',
    "unknown role": b'{"messages": [{"role": "wizard", "content": "hi"}]}',
    "negative max_tokens": b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -5}',
    "stream not a boolean": b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
}
"""Malformed chat requests, each of which must get a 4xx with a message."""


def probe_malformed(base_url: str, cases: dict[str, bytes] | None = None, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Send each malformed request; one row per case with the HTTP status and the server's message."""
    rows = []
    for case, body in (cases or MALFORMED).items():
        request = urllib.request.Request(f"{base_url}/chat/completions", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        try:
            message = json.loads(text)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = text[:200]
        rows.append({"case": case, "status": status, "message": message, "refused": 400 <= status < 500})
    return rows


def write_serve_load(path: Path, result: LoadTestResult, malformed: Sequence[dict[str, Any]],
                     startup_seconds: float) -> Path:
    """serve_load.json: the load test, the malformed-request probe and the server's start-up time."""
    return write_json(Path(path), {**result.as_dict(), "startup_seconds": round(startup_seconds, 2),
                                   "malformed_requests": list(malformed)})


__all__ = ["LoadTestResult", "MALFORMED", "probe_malformed", "run_load_test", "write_serve_load"]
