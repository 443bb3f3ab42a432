"""python -m playground.sandbox [--host H] [--port P] [--data-dir PATH]"""

import argparse
import os
import signal
import sys


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m playground.sandbox", description="EvoLink-compatible sandbox server."
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or SANDBOX_HOST)")
    parser.add_argument(
        "--port", type=int, help="port to listen on (default 8001, or SANDBOX_PORT)"
    )
    parser.add_argument(
        "--data-dir",
        help="where tasks and files are kept (default ./var/sandbox, or SANDBOX_DATA_DIR)",
    )
    return parser.parse_args(argv)


def stop(signum, frame):
    raise KeyboardInterrupt


def make_server(host, port, application):
    from socketserver import ThreadingMixIn

    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    class RequestHandler(WSGIRequestHandler):
        # Headers and body go out in separate writes: with Nagle's algorithm a
        # kept-alive connection waits ~40 ms for a delayed ACK on every reply.
        disable_nagle_algorithm = True

        def get_environ(self):
            # The connection itself, so a fault can drop it half-way through a reply.
            return {**super().get_environ(), "sandbox.connection": self.connection}

        def log_request(self, code="-", size="-"):
            # One line per request, without the query string: result links carry signatures.
            self.log_message(
                '"%s" %s %s', f"{self.command} {self.path.split('?')[0]}", str(code), str(size)
            )

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = 128

    server = Server((host, port), RequestHandler, ipv6=":" in host)
    server.set_app(application)
    return server


def main(argv=None):
    args = parse_args(argv)
    # Flags become the environment settings.py reads, so there is one source of truth.
    for name, value in (
        ("SANDBOX_HOST", args.host),
        ("SANDBOX_PORT", args.port),
        ("SANDBOX_DATA_DIR", args.data_dir),
    ):
        if value is not None:
            os.environ[name] = str(value)
    # Forced, not defaulted: the main app's settings may be in the environment.
    os.environ["DJANGO_SETTINGS_MODULE"] = "playground.sandbox.settings"

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.wsgi import get_wsgi_application

    from . import callbacks, faults, links

    try:
        application = get_wsgi_application()
    except ImproperlyConfigured as exc:
        sys.exit(f"EvoLink sandbox cannot start: {exc}")
    links.secret()
    faults.apply_environment()
    callbacks.resume()
    host, port = settings.SANDBOX_HOST, settings.SANDBOX_PORT
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        server = make_server(host, port, application)
    except OSError as exc:
        sys.exit(f"EvoLink sandbox could not listen on {address}: {exc}")

    signal.signal(signal.SIGTERM, stop)
    print(f"EvoLink sandbox listening on http://{address}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
