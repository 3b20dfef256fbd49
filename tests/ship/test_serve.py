"""The pilot endpoint: malformed requests get a 4xx with a message, answered ones are logged redacted;
and the real server (``transformers serve``'s app on 127.0.0.1) under a bounded load test."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from helpers.ship.load_test import MALFORMED
from helpers.ship.pilot_log import read_log
from helpers.ship.serve import PilotGate, answer_text, free_port, request_problem, wait_until_up

GOOD = {"messages": [{"role": "user", "content": "What wattage is the Tessera Pro (VX-PS-4471)?"}], "max_tokens": 8}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_every_malformed_request_is_named(case):
    assert request_problem(MALFORMED[case])


def test_a_good_request_passes():
    assert request_problem(json.dumps(GOOD).encode()) is None
    assert request_problem(json.dumps({**GOOD, "stream": True, "temperature": 0}).encode()) is None
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "What wattage?"}]}]}
    assert request_problem(json.dumps(parts).encode()) is None  # OpenAI's content parts, text only
    image = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}
    assert "content must be a string" in request_problem(json.dumps(image).encode())


def test_last_turn_must_be_the_users():
    body = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    assert "last message" in request_problem(json.dumps(body).encode())


def test_answer_text_from_json_and_from_server_sent_events():
    reply = {"choices": [{"message": {"role": "assistant", "content": "650 W"}}], "usage": {"completion_tokens": 3}}
    assert answer_text(json.dumps(reply).encode(), streamed=False) == ("650 W", 3)
    chunks = [{"choices": [{"delta": {"content": "65"}}]}, {"choices": [{"delta": {"content": "0 W"}}]},
              {"choices": [], "usage": {"completion_tokens": 3}}]
    sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    assert answer_text(sse.encode(), streamed=True) == ("650 W", 3)


def _call(app, body: bytes, path: str = "/v1/chat/completions") -> tuple[int, bytes]:
    """One HTTP request through an ASGI app, without a server."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": [(b"x-request-id", b"r-1")]}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _fake_model_app(reply: str):
    """An ASGI app answering every request like the chat endpoint would; counts its calls."""
    calls = []

    async def app(scope, receive, send):
        calls.append(json.loads((await receive())["body"]))
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}],
                           "usage": {"completion_tokens": 4}}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    app.calls = calls
    return app


def test_gate_refuses_malformed_requests_before_the_model(tmp_path):
    model = _fake_model_app("never")
    gate = PilotGate(model, tmp_path / "log.jsonl", "v1")
    for case, body in MALFORMED.items():
        status, text = _call(gate, body)
        assert status == 400, case
        assert json.loads(text)["error"]["message"], case
    assert model.calls == [] and not (tmp_path / "log.jsonl").exists()


def test_gate_logs_answered_conversations_redacted_with_the_model_version(tmp_path):
    model = _fake_model_app("Sure Dana, the Tessera Pro (VX-PS-4471) is rated at 650 W.")
    gate = PilotGate(model, tmp_path / "log.jsonl", "toy/dpo@abc")
    body = {"messages": [{"role": "user", "content": "My name is Dana Whitfield (dana@example.com). Wattage of VX-PS-4471?"}]}
    status, _ = _call(gate, json.dumps(body).encode())
    assert status == 200 and len(model.calls) == 1
    assert model.calls[0] == body  # the model saw the request unchanged
    [record] = read_log(tmp_path / "log.jsonl")
    assert record["model_version"] == "toy/dpo@abc" and record["conversation_id"] == "r-1"
    assert "dana@example.com" not in json.dumps(record) and "Dana" not in json.dumps(record)
    assert record["answer"] == "Sure <NAME>, the Tessera Pro (VX-PS-4471) is rated at 650 W."
    assert record["completion_tokens"] == 4


def test_gate_passes_other_routes_untouched(tmp_path):
    model = _fake_model_app("x")
    status, _ = _call(PilotGate(model, tmp_path / "log.jsonl", "v1"), b"{}", path="/v1/completions")
    assert status == 200 and not (tmp_path / "log.jsonl").exists()


@pytest.mark.slow
def test_real_server_load_test_and_bad_requests_on_localhost(tmp_path):
    from helpers.model.loading import prepare_default_model
    from helpers.ship.load_test import probe_malformed, run_load_test
    from helpers.ship.serve import ServedModel

    log = tmp_path / "pilot_log.jsonl"
    prompts = [[{"role": "user", "content": f"My email is buyer{k}@example.com. What wattage is the VX-PS-4471?"}]
               for k in range(3)]
    with ServedModel(prepare_default_model(), log, "default@test", tmp_path / "serve.log") as server:
        assert server.url.startswith("http://127.0.0.1:")
        result = run_load_test(server.url, server.model, prompts, clients=2, requests_per_client=2, max_tokens=6,
                               time_limit=240, request_timeout=240)
        refused = probe_malformed(server.url)
        process = server.process
    assert process.poll() is not None, "the server must be stopped when the block ends"
    assert result.errors == 0, result.error_messages
    assert result.sent == result.completed == 4
    assert 0 < result.p50_seconds <= result.p95_seconds and result.tokens_per_second > 0
    assert all(row["refused"] for row in refused), refused
    records = read_log(log)
    assert len(records) == 4 and all(r["model_version"] == "default@test" for r in records)
    assert "@example.com" not in log.read_text()


def test_waiting_for_a_server_says_why_it_never_came_up():
    port = free_port()
    gone = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    gone.wait()
    assert wait_until_up(f"http://127.0.0.1:{port}/health", gone, 5) == "exited with code 3"
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert wait_until_up(f"http://127.0.0.1:{port}/health?token=x", silent, 1) == \
            f"did not answer http://127.0.0.1:{port}/health within 1 s"
    finally:
        silent.kill()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until_up(f"http://127.0.0.1:{port}/", server, 30) is None
    finally:
        server.kill()
