"""A recorded-protocol stand-in for a text-generation-inference server (no TGI can run here).

It speaks TGI's generate route as huggingface_hub's InferenceClient calls it (POST / with
{"inputs", "parameters"}; a JSON list with generated_text back), records every request, answers
from a script of completions, and can fail the first N requests to exercise retries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeTgiServer:
    def __init__(
        self,
        completions: list[str] | None = None,
        fail_first: int = 0,
        fail_status: int = 503,
        responder: Any = None,
    ) -> None:
        self.completions = completions or [""]
        self.responder = responder  # callable(prompt, parameters) -> completion, instead of the script
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
                if index < server.fail_first:
                    kind = "validation" if server.fail_status == 422 else "overloaded"
                    self._reply(server.fail_status, {"error": f"fake {kind} error", "error_type": kind})
                    return
                if server.responder is not None:
                    text = server.responder(body.get("inputs", ""), body.get("parameters", {}))
                else:
                    text = server.completions[(index - server.fail_first) % len(server.completions)]
                self._reply(200, [{"generated_text": text}])

            def _reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
