"""A tiny application: serves the job id it was given on CDSW_APP_PORT."""
import http.server
import os


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"count job: {os.environ.get('COUNT_JOB_ID', '?')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", int(os.environ.get("CDSW_APP_PORT", "8080"))), Handler).serve_forever()
