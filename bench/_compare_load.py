"""The load for ``bench/compare.py``: webhook bodies built and signed beforehand, posted
by ``wrk`` (a C load generator, so the load costs the shared cores little).

A load is a file of requests, one a line (``authorization<TAB>body``); wrk's Lua script
reads it once and posts the requests in order, each once (a load has more requests than
a run can send: running out would repeat one, which the result reports). A paced run
waits ``delay`` ms on each connection between an answer and the next request.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from botkit.signature import sign_webhook
from botkit.testing import inbound_webhook

__all__ = ["WrkResult", "build_load", "run_wrk"]

SECRET = "bench-signature-secret-0123456789abcdef"

_SCRIPT = """
local requests, i, wrapped = {}, 0, 0
function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\\t", 1, true)
    local auth, body = line:sub(1, tab - 1), line:sub(tab + 1)
    local headers = {["Content-Type"] = "application/json"}
    if auth ~= "" then headers["Authorization"] = auth end
    requests[#requests + 1] = wrk.format("POST", "/webhooks/inbound", headers, body)
  end
end
function request()
  i = i + 1
  if i > #requests then i, wrapped = 1, wrapped + 1 end
  return requests[i]
end
%(delay)s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%%d,"duration_us":%%d,"non_2xx":%%d,"socket_errors":%%d,' ..
    '"p50_us":%%d,"p99_us":%%d,"max_us":%%d,"wrapped":%%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, w))
end
"""


@dataclass
class WrkResult:
    """What one wrk run saw."""

    requests: int
    seconds: float
    ok: int  # answered 2xx
    p50_ms: float
    p99_ms: float
    max_ms: float
    started: float  # time.monotonic() when wrk was started

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds


def build_load(
    path: Path, count: int, *, users: int | None, first_user: int, signed: bool
) -> Path:
    """Write ``count`` SMS inbound webhooks to ``path``: from ``count`` new users starting
    at number ``first_user`` (``users=None``), or round robin from ``users`` users."""
    now = time.time()
    lines = []
    for n in range(count):
        user = first_user + (n if users is None else n % users)
        body = json.dumps(
            inbound_webhook("sms", "text", {"text": f"hello {n}"}, user=f"44{user:010d}",
                            timestamp=now, message_uuid=str(uuid.uuid4())),
            separators=(",", ":"),
        ).encode()
        auth = sign_webhook(body, SECRET, now=now) if signed else ""
        lines.append(auth.encode() + b"\t" + body)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run_wrk(url: str, load: Path, work: Path, *, seconds: float, connections: int,
            delay_ms: float = 0.0) -> WrkResult:
    """Post ``load`` to ``url`` for ``seconds`` on ``connections`` connections (one thread)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    delay = f"function delay() return {delay_ms:.3f} end" if delay_ms else ""
    script = work / ("wrk-paced.lua" if delay_ms else "wrk.lua")
    script.write_text(_SCRIPT % {"delay": delay})
    started = time.monotonic()
    done = subprocess.run(
        [binary, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout",
         "30s", "-s", str(script), url, "--", str(load)],
        capture_output=True, text=True, timeout=seconds + 120, check=False,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    data = json.loads(line[4:])
    if data["wrapped"]:
        raise RuntimeError(f"the load {load.name} ran out of requests; make it longer")
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        ok=data["requests"] - data["non_2xx"] - data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        started=started,
    )
