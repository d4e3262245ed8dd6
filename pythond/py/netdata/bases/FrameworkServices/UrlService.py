"""UrlService: python.d services that read an HTTP(S) URL.

It uses urllib3 when it is installed (python3-urllib3), as Netdata does,
and otherwise a small manager on the standard library's urllib.request
with the same surface: _build_manager() returns an object whose
request(method, url, headers=, body=, timeout=, retries=, redirect=)
returns a response with .status, .data (bytes) and .headers.
"""

import base64
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request

from bases.FrameworkServices.SimpleService import SimpleService

try:
    import urllib3
except ImportError:
    urllib3 = None

try:
    if urllib3 is not None:
        urllib3.disable_warnings()
except AttributeError:
    pass


class StdlibResponse(object):
    """What StdlibManager.request returns: status, data, headers."""

    def __init__(self, status, data, headers, reason=''):
        self.status = status
        self.data = data
        self.headers = headers
        self.reason = reason

    def getheader(self, name, default=None):
        """Return the value of header name."""
        return self.headers.get(name, default)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class StdlibManager(object):
    """A urllib3.PoolManager look-alike on urllib.request."""

    def __init__(self, headers=None, proxy_url=None, proxy_headers=None,
                 verify=False, ca_file=None, cert_file=None, key_file=None):
        self.headers = dict(headers or {})
        self.proxy_url = proxy_url
        self.proxy_headers = dict(proxy_headers or {})
        if verify or ca_file:
            self.context = ssl.create_default_context(cafile=ca_file)
        else:
            self.context = ssl.create_default_context()
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        if cert_file:
            self.context.load_cert_chain(cert_file, key_file)

    def _opener(self, redirect):
        handlers = [urllib.request.HTTPSHandler(context=self.context)]
        if self.proxy_url:
            handlers.append(urllib.request.ProxyHandler(
                {'http': self.proxy_url, 'https': self.proxy_url}))
        else:
            handlers.append(urllib.request.ProxyHandler({}))
        if not redirect:
            handlers.append(_NoRedirect())
        return urllib.request.build_opener(*handlers)

    def request(self, method, url, fields=None, headers=None, body=None,
                timeout=None, retries=None, redirect=True, **kw):
        """Send one request and return a StdlibResponse; a response of any
        status is returned, a connection error raises."""
        all_headers = dict(self.headers)
        all_headers.update(self.proxy_headers)
        all_headers.update(headers or {})
        if isinstance(body, str):
            body = body.encode('utf-8')
        if fields and body is None:
            query = urllib.parse.urlencode(fields)
            if method.upper() in ('GET', 'HEAD', 'DELETE'):
                url += ('&' if '?' in url else '?') + query
            else:
                body = query.encode('utf-8')
                all_headers.setdefault(
                    'Content-Type', 'application/x-www-form-urlencoded')
        req = urllib.request.Request(url, data=body, headers=all_headers,
                                     method=method.upper())
        if isinstance(timeout, (int, float)):
            seconds = timeout
        else:
            seconds = getattr(timeout, 'total', None) or \
                getattr(timeout, 'read_timeout', None) or \
                socket.getdefaulttimeout()
        try:
            resp = self._opener(redirect).open(req, timeout=seconds)
        except urllib.error.HTTPError as err:
            data = err.read() if err.fp is not None else b''
            return StdlibResponse(err.code, data, dict(err.headers or {}),
                                  err.reason)
        with resp:
            data = resp.read()
            return StdlibResponse(resp.status, data, dict(resp.headers),
                                  resp.reason)

    def clear(self):
        """Drop pooled connections (none are kept)."""


def _basic_auth(user, password):
    token = '{0}:{1}'.format(user, password).encode('utf-8')
    return 'Basic ' + base64.b64encode(token).decode('ascii')


class UrlService(SimpleService):
    """A service that reads self.url; _get_raw_data() returns the body."""

    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.debug('URL service uses {0}'.format(
            'urllib3 ' + getattr(urllib3, '__version__', '')
            if urllib3 is not None else 'urllib.request'))
        self.url = self.configuration.get('url')
        self.user = self.configuration.get('user')
        self.password = self.configuration.get('pass')
        self.proxy_user = self.configuration.get('proxy_user')
        self.proxy_password = self.configuration.get('proxy_pass')
        self.proxy_url = self.configuration.get('proxy_url')
        self.method = self.configuration.get('method', 'GET')
        self.header = self.configuration.get('header')
        self.body = self.configuration.get('body')
        self.request_timeout = self.configuration.get('timeout', 1)
        self.respect_retry_after_header = self.configuration.get(
            'respect_retry_after_header')
        self.tls_verify = self.configuration.get('tls_verify')
        self.tls_ca_file = self.configuration.get('tls_ca_file')
        self.tls_key_file = self.configuration.get('tls_key_file')
        self.tls_cert_file = self.configuration.get('tls_cert_file')
        self._manager = None

    def __make_headers(self, **header_kw):
        user = header_kw.get('user') or self.user
        password = header_kw.get('pass') or self.password
        proxy_user = header_kw.get('proxy_user') or self.proxy_user
        proxy_password = header_kw.get('proxy_pass') or self.proxy_password
        custom_header = header_kw.get('header') or self.header
        headers = {'connection': 'keep-alive'}
        proxy_headers = {}
        if user and password:
            if urllib3 is not None:
                headers.update(urllib3.make_headers(
                    basic_auth='{0}:{1}'.format(user, password)))
            else:
                headers['authorization'] = _basic_auth(user, password)
        if proxy_user and proxy_password:
            if urllib3 is not None:
                proxy_headers = urllib3.make_headers(
                    proxy_basic_auth='{0}:{1}'.format(proxy_user,
                                                      proxy_password))
            else:
                proxy_headers = {'proxy-authorization':
                                 _basic_auth(proxy_user, proxy_password)}
        if isinstance(custom_header, dict):
            headers.update(custom_header)
        return headers, proxy_headers

    def _build_manager(self, **header_kw):
        """Return a PoolManager (ProxyManager with proxy_url) for self.url,
        or None after logging why not."""
        headers, proxy_headers = self.__make_headers(**header_kw)
        url = header_kw.get('url') or self.url or ''
        proxy_url = header_kw.get('proxy_url') or self.proxy_url
        verify = bool(self.tls_verify or self.tls_ca_file)
        try:
            if urllib3 is None:
                return StdlibManager(headers=headers, proxy_url=proxy_url,
                                     proxy_headers=proxy_headers,
                                     verify=verify, ca_file=self.tls_ca_file,
                                     cert_file=self.tls_cert_file,
                                     key_file=self.tls_key_file)
            params = dict(headers=headers)
            if url.startswith('https') or (proxy_url or '').startswith(
                    'https'):
                if verify:
                    params.update(cert_reqs='CERT_REQUIRED',
                                  ca_certs=self.tls_ca_file)
                else:
                    params.update(cert_reqs='CERT_NONE')
                if self.tls_cert_file:
                    params.update(cert_file=self.tls_cert_file,
                                  key_file=self.tls_key_file)
            if proxy_url:
                return urllib3.ProxyManager(proxy_url=proxy_url,
                                            proxy_headers=proxy_headers,
                                            **params)
            return urllib3.PoolManager(**params)
        except (TypeError, ValueError, OSError, ssl.SSLError) as error:
            self.error('build manager error: {0}'.format(error))
            return None

    def _get_raw_data(self, url=None, manager=None, **kwargs):
        """Return the body of url (default self.url) as str when the
        status is 200, else None."""
        try:
            status, data = self._get_raw_data_with_status(url, manager,
                                                          **kwargs)
        except Exception as error:
            self.error('Url: {url}. Error: {error}'.format(
                url=url or self.url, error=error))
            return None
        if status == 200:
            return data
        self.debug('Url: {url}. Http response status code: {code}'.format(
            url=url or self.url, code=status))
        return None

    def _get_raw_data_with_status(self, url=None, manager=None, retries=1,
                                  redirect=True, **kwargs):
        """Return (status, body as str); errors raise."""
        response = self._do_request(url, manager, retries, redirect,
                                    **kwargs)
        data = response.data
        if isinstance(data, bytes):
            data = data.decode('utf-8', 'replace')
        return response.status, data

    def _do_request(self, url=None, manager=None, retries=1, redirect=True,
                    **kwargs):
        """Send self.method to url and return the response."""
        url = url or self.url
        manager = manager or self._manager
        if manager is None:
            manager = self._manager = self._build_manager()
        if manager is None:
            raise ValueError('no HTTP manager for {0}'.format(url))
        timeout = self.request_timeout
        if urllib3 is not None:
            retry = urllib3.Retry(retries)
            if hasattr(retry, 'respect_retry_after_header'):
                retry.respect_retry_after_header = bool(
                    self.respect_retry_after_header)
            timeout = urllib3.Timeout(total=self.request_timeout)
        else:
            retry = retries
        if self.body:
            return manager.request(method=self.method, url=url,
                                   timeout=timeout, retries=retry,
                                   body=self.body, redirect=redirect,
                                   **kwargs)
        return manager.request(method=self.method, url=url, timeout=timeout,
                               retries=retry, redirect=redirect, **kwargs)

    def check(self):
        """Build the manager for self.url and test _get_data()."""
        if not (self.url and isinstance(self.url, str)):
            self.error('URL is not defined or type is not <str>')
            return False
        self._manager = self._build_manager()
        if not self._manager:
            return False
        try:
            data = self._get_data()
        except Exception as error:
            self.error('_get_data() failed. Url: {url}. Error: {error}'
                       .format(url=self.url, error=error))
            return False
        if isinstance(data, dict) and data:
            return True
        self.error('_get_data() returned no data or type is not <dict>')
        return False
