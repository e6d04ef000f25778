"""A local stand-in for the Hugging Face hub's HTTP API, enough for huggingface_hub.snapshot_download.

It implements the documented endpoints the client calls: repository info
(`/api/models/{repo}/revision/{rev}`), the file tree (`/api/models/{repo}/tree/{rev}`), and file
downloads (`/{repo}/resolve/{rev}/{path}`, HEAD and GET, with X-Repo-Commit and ETag headers).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


class FakeHub:
    """Serves every folder under `root` named `org/name` as a model repository."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[str] = []

    def files(self, repo: str) -> dict[str, Path]:
        base = self.root / repo
        return {str(p.relative_to(base)): p for p in sorted(base.rglob("*")) if p.is_file()}

    def commit(self, repo: str) -> str:
        digest = hashlib.sha1()
        for name, path in self.files(repo).items():
            digest.update(name.encode() + path.read_bytes())
        return digest.hexdigest()


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = unquote(urlparse(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) >= 6:
                repo = "/".join(parts[2:4])
                if not (hub.root / repo).is_dir():
                    return self._json({"error": "Repository not found"}, 404, body)
                if parts[4] == "revision":
                    siblings = [{"rfilename": name} for name in hub.files(repo)]
                    return self._json({"id": repo, "sha": hub.commit(repo), "siblings": siblings}, 200, body)
                if parts[4] == "tree":
                    tree = [
                        {"type": "file", "path": name, "size": p.stat().st_size, "oid": _oid(p)}
                        for name, p in hub.files(repo).items()
                    ]
                    return self._json(tree, 200, body)
            if len(parts) >= 5 and parts[2] == "resolve":
                repo, name = "/".join(parts[:2]), "/".join(parts[4:])
                file = hub.files(repo).get(name) if (hub.root / repo).is_dir() else None
                if file is None:
                    return self._json({"error": "Entry not found"}, 404, body, {"X-Error-Code": "EntryNotFound"})
                data = file.read_bytes()
                headers = {"X-Repo-Commit": hub.commit(repo), "ETag": f'"{_oid(file)}"'}
                return self._send(data, 200, "application/octet-stream", body, headers)
            return self._json({"error": "not found"}, 404, body)

        def _json(self, payload: object, status: int, body: bool, headers: dict[str, str] | None = None) -> None:
            self._send(json.dumps(payload).encode(), status, "application/json", body, headers or {})

        def _send(self, data: bytes, status: int, kind: str, body: bool, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


def _oid(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@contextmanager
def serve(hub: FakeHub) -> Iterator[str]:
    """Run the fake hub on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
