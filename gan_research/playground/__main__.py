"""python -m gan_research.playground [--port=8080] [--host=127.0.0.1] [--save_dir=runs/playground]"""
from absl import app, flags

from gan_research.playground import server

_PORT = flags.DEFINE_integer('port', 8080, 'Port to serve on (0: any free port).')
_HOST = flags.DEFINE_string('host', '127.0.0.1', 'Address to bind; the default serves this '
                            'machine only (the page runs training jobs on request).')
_SAVE_DIR = flags.DEFINE_string('save_dir', 'runs/playground', 'Where Save writes workdirs.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  httpd = server.make_server(_HOST.value, _PORT.value, _SAVE_DIR.value)
  host, port = httpd.server_address[:2]
  print(f'GAN playground at http://{host}:{port}/ (Ctrl-C stops it)', flush=True)
  try:
    httpd.serve_forever()
  except KeyboardInterrupt:
    pass
  finally:
    httpd.server_close()


if __name__ == '__main__':
  app.run(main)
