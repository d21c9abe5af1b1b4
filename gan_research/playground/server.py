"""The playground's HTTP server: the page, and a JSON API the page polls.

  GET  /                      the page (static/index.html, static/app.js)
  GET  /api/options           the choices, limits and defaults of every setting
  POST /api/runs              {settings} -> {'id'}; 400 {'error'} names a bad setting
  GET  /api/runs/ID?since=N   status, step, losses after the N-th, snapshot, result
  POST /api/runs/ID/stop      stops after the compiled call in flight
  POST /api/runs/ID/save      {'name'} -> {'workdir', 'command'}: a normal workdir

Standard library only (http.server): the page is static HTML and JavaScript that draws on
canvases, so the core package needs nothing more to serve it.
"""
import dataclasses
import http.server
import json
import os
import re
import threading
import urllib.parse

from gan_research.playground import runs as runs_lib
from gan_research.playground import settings as settings_lib

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static')
FILES = {'/': ('index.html', 'text/html; charset=utf-8'),
         '/app.js': ('app.js', 'text/javascript; charset=utf-8')}
MAX_RUNS = 50  # kept for polling; the oldest finished ones are dropped past this
MAX_BODY = 64 * 1024
NAME = re.compile(r'^[A-Za-z0-9_.-]{1,80}$')


class UnknownRun(LookupError):
  pass


class Playground:
  """The server's state: runs by id, the shared compiled trainers, where runs are saved."""

  def __init__(self, save_dir):
    self.save_dir = save_dir
    self.trainers = runs_lib.Trainers()
    self.runs = {}
    self._lock = threading.Lock()

  def start_run(self, request) -> runs_lib.Run:
    run = runs_lib.Run(settings_lib.parse(request), self.trainers)
    with self._lock:
      finished = [r for r in self.runs.values() if r.status not in ('starting', 'running')]
      for old in finished[:max(0, len(self.runs) + 1 - MAX_RUNS)]:
        del self.runs[old.id]
      self.runs[run.id] = run
    return run.start()

  def get(self, run_id) -> runs_lib.Run:
    with self._lock:
      if run_id not in self.runs:
        raise UnknownRun(f'No run {run_id!r} (the server keeps the last {MAX_RUNS} runs).')
      return self.runs[run_id]

  def save(self, run_id, request):
    run = self.get(run_id)
    s = run.settings
    name = request.get('name') or f'{s.data}_{s.activation}_seed{s.seed}_{run.id}'
    if not isinstance(name, str) or not NAME.match(name):
      raise ValueError(f'A run name is 1-80 letters, digits, ".", "_" or "-"; got {name!r}.')
    return run.save(os.path.join(self.save_dir, name))

  def options(self):
    defaults = dataclasses.asdict(settings_lib.Settings())
    return {'choices': settings_lib.choices(), 'limits': settings_lib.LIMITS,
            'defaults': defaults, 'max_learning_rate': settings_lib.MAX_LEARNING_RATE}


class Handler(http.server.BaseHTTPRequestHandler):
  playground: Playground = None  # set by make_server on a subclass

  def log_message(self, format, *args):  # pylint: disable=redefined-builtin
    del format, args  # the page polls several times a second: no line per request

  def _send(self, code, body: bytes, content_type):
    self.send_response(code)
    self.send_header('Content-Type', content_type)
    self.send_header('Content-Length', str(len(body)))
    self.send_header('Cache-Control', 'no-store')
    self.end_headers()
    self.wfile.write(body)

  def _json(self, code, obj):
    # Non-finite floats (an infinite reverse KL) as null: JSON has no inf.
    self._send(code, json.dumps(_finite(obj)).encode(), 'application/json')

  def _body(self):
    length = int(self.headers.get('Content-Length') or 0)
    if length > MAX_BODY:
      raise ValueError(f'Request body of {length} bytes; at most {MAX_BODY}.')
    text = self.rfile.read(length).decode() if length else '{}'
    try:
      body = json.loads(text)
    except json.JSONDecodeError as e:
      raise ValueError(f'The request body is not JSON: {e}.') from None
    if not isinstance(body, dict):
      raise ValueError('The request body must be a JSON object.')
    return body

  def _route(self, method):
    url = urllib.parse.urlparse(self.path)
    parts = [p for p in url.path.split('/') if p]
    query = urllib.parse.parse_qs(url.query)
    try:
      if method == 'GET' and url.path in FILES:
        name, content_type = FILES[url.path]
        with open(os.path.join(STATIC, name), 'rb') as f:
          return self._send(200, f.read(), content_type)
      if parts[:1] != ['api']:
        return self._json(404, {'error': f'No page {url.path!r}; the playground is at /.'})
      if method == 'GET' and parts == ['api', 'options']:
        return self._json(200, self.playground.options())
      if method == 'POST' and parts == ['api', 'runs']:
        return self._json(200, {'id': self.playground.start_run(self._body()).id})
      if len(parts) == 3 and parts[1] == 'runs' and method == 'GET':
        since = int(query.get('since', ['0'])[0])
        return self._json(200, self.playground.get(parts[2]).view(since))
      if len(parts) == 4 and parts[1] == 'runs' and method == 'POST':
        if parts[3] == 'stop':
          self.playground.get(parts[2]).stop()
          return self._json(200, {'stopping': True})
        if parts[3] == 'save':
          return self._json(200, self.playground.save(parts[2], self._body()))
      return self._json(404, {'error': f'No API {method} {url.path}.'})
    except UnknownRun as e:
      return self._json(404, {'error': str(e)})
    except ValueError as e:  # a bad request: the message says what to change
      return self._json(400, {'error': str(e)})
    except Exception as e:  # pylint: disable=broad-except
      return self._json(500, {'error': f'{type(e).__name__}: {e}'})

  def do_GET(self):  # pylint: disable=invalid-name
    self._route('GET')

  def do_POST(self):  # pylint: disable=invalid-name
    self._route('POST')


def _finite(obj):
  if isinstance(obj, float):
    return obj if obj == obj and abs(obj) != float('inf') else None
  if isinstance(obj, dict):
    return {k: _finite(v) for k, v in obj.items()}
  if isinstance(obj, (list, tuple)):
    return [_finite(v) for v in obj]
  return obj


def make_server(host='127.0.0.1', port=8080, save_dir='runs/playground'):
  """A ThreadingHTTPServer (one thread per request; each run trains in its own thread);
  port 0 picks a free port (server.server_address[1])."""
  handler = type('PlaygroundHandler', (Handler,), {'playground': Playground(save_dir)})
  server = http.server.ThreadingHTTPServer((host, port), handler)
  server.daemon_threads = True
  return server
