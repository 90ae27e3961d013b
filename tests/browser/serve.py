"""Static file server for the browser tests: Python's http.server, plus response headers given on the command line.

    python3 serve.py PORT DIRECTORY [--header 'Name: value' ...]

Used to serve www/ with a Content-Security-Policy *header* (a policy in a <meta> tag does not reach a worker).
"""

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class Handler(SimpleHTTPRequestHandler):
    extra_headers: list[tuple[str, str]] = []

    def end_headers(self):
        for name, value in self.extra_headers:
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args):  # quiet: the tests read failures, not access logs
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("directory")
    ap.add_argument("--header", action="append", default=[])
    a = ap.parse_args()
    Handler.extra_headers = [tuple(h.split(": ", 1)) for h in a.header]
    server = ThreadingHTTPServer(("127.0.0.1", a.port), functools.partial(Handler, directory=a.directory))
    server.serve_forever()


if __name__ == "__main__":
    main()
