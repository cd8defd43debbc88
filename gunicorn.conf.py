"""gunicorn's settings for `make serve`: access lines with the request id, every log line redacted.

gunicorn reads this file from the directory it starts in. The access line is the combined log format
plus the ``X-Request-ID`` the provider sends back (the ``request_id=`` of the provider's own log lines
and the reference on its error page); query strings, referrers and error messages pass ``idp.logs.redact``
(ID tokens in ``/end-session?id_token_hint=``, access tokens in a query string, ``login_hint``, codes ...).
"""

from gunicorn.glogging import Logger

from idp.logs import RedactingFilter

access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
)


class RedactingLogger(Logger):
    """gunicorn's logger, with ``idp.logs.RedactingFilter`` on its error and access logs."""

    redacting_filter = RedactingFilter()

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(self.redacting_filter)


logger_class = RedactingLogger
