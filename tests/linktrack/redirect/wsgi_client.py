"""A test client whose requests go through the project's WSGI application (linktrack.wsgi: the short-domain front,
then Django), as gunicorn hands them over, rather than straight to Django's handler as Django's test client does.
What it returns is what went on the wire: the status, the headers in their order, the body."""

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client

from linktrack.redirect.front import ShortDomainFront


class _DjangoHandler(WSGIHandler):
    def get_response(self, request):
        request._dont_enforce_csrf_checks = True  # as Django's test client: tests post without a token
        return super().get_response(request)


class WsgiClient(Client):
    def __init__(self, **defaults):
        super().__init__(**defaults)
        self.application = ShortDomainFront(_DjangoHandler())

    def request(self, **request):
        environ = self._base_environ(**request)
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer.update(status=int(status.split(" ", 1)[0]), headers=headers)

        # As Django's test client: the test's transaction must survive the end of the request.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            body = self.application(environ, start_response)
            content = b"".join(body)
            if hasattr(body, "close"):
                body.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        response = HttpResponse(content, status=answer["status"])
        for name in list(response.headers):
            del response.headers[name]
        for name, value in answer["headers"]:
            response.headers[name] = value
        response.wire_headers = answer["headers"]
        return response
