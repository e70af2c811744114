"""A recorded-protocol stand-in for a text-generation-inference server (no TGI can run here).

It speaks TGI's generate route as huggingface_hub's InferenceClient calls it (POST / with
{"inputs", "parameters"}; a JSON list with generated_text back), records every request, answers
from a script of completions, and can fail the first N requests to exercise retries. Asked for
`decoder_input_details`, it returns the input's tokens with log-probabilities as TGI does: a BOS
token first, whose log-probability is null, then the input in pieces (each run of spaces with the
word after it), each scored by `scorer(text before it, piece)`."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    """A listen queue as deep as a real server's: the default 5 resets connections when the
    generation service sends its 16 concurrent requests to a machine under load."""

    request_queue_size = 128


class FakeTgiServer:
    def __init__(
        self,
        completions: list[str] | None = None,
        fail_first: int = 0,
        fail_status: int = 503,
        responder: Any = None,
        scorer: Any = None,
    ) -> None:
        self.completions = completions or [""]
        self.responder = responder  # callable(prompt, parameters) -> completion, instead of the script
        self.scorer = scorer or default_scorer  # callable(text before, piece) -> log-probability
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, **body})
                    index = len(server.requests) - 1
                if index < server.fail_first and not server.fail_status:  # dropped: no reply at all
                    self.close_connection = True
                    return
                if index < server.fail_first:
                    kind = "validation" if server.fail_status == 422 else "overloaded"
                    self._reply(server.fail_status, {"error": f"fake {kind} error", "error_type": kind})
                    return
                if server.responder is not None:
                    text = server.responder(body.get("inputs", ""), body.get("parameters", {}))
                else:
                    text = server.completions[(index - server.fail_first) % len(server.completions)]
                parameters = body.get("parameters") or {}
                reply: dict[str, Any] = {"generated_text": text}
                if parameters.get("details"):
                    reply["details"] = server.details(body.get("inputs", ""), parameters)
                self._reply(200, [reply])

            def _reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def details(self, inputs: str, parameters: dict[str, Any]) -> dict[str, Any]:
        prefill = [{"id": 1, "text": "<s>", "logprob": None}]
        if parameters.get("decoder_input_details"):
            done = 0
            for piece in re.findall(r"\s*\S+|\s+", inputs):
                prefill.append({"id": 2, "text": piece, "logprob": self.scorer(inputs[:done], piece)})
                done += len(piece)
        token = {"id": 3, "text": "x", "logprob": -1.0, "special": False}
        return {"finish_reason": "length", "generated_tokens": 1, "prefill": prefill, "tokens": [token]}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def default_scorer(before: str, piece: str) -> float:
    """A log-probability that depends on the piece only: half a nat a character."""
    return -0.5 * len(piece.strip()) - 0.25
