"""SocketService: python.d services that talk to a TCP or unix socket.

_get_raw_data() connects (a unix socket, DGRAM then STREAM, when
unix_socket is set, else TCP to host:port, optionally TLS), sends
self.request unless it is empty and reads 4096-byte chunks until
_check_raw_data(data) is true (by default the first chunk is enough).
The socket is closed after every read unless _keep_alive is set.
"""

import errno
import socket
import ssl

from bases.FrameworkServices.SimpleService import SimpleService

DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 2.0
DEFAULT_WRITE_TIMEOUT = 2.0


class SocketService(SimpleService):
    """A service that reads a socket; see the module's doc."""

    def __init__(self, configuration=None, name=None):
        self._sock = None
        self._keep_alive = False
        self.host = 'localhost'
        self.port = None
        self.unix_socket = None
        self.dgram_socket = False
        self.request = ''
        self.tls = False
        self.cert = None
        self.key = None
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.__socket_config = None
        self.__empty_request = b''
        self.connect_timeout = self._float_conf('connect_timeout',
                                                DEFAULT_CONNECT_TIMEOUT)
        self.read_timeout = self._float_conf('read_timeout',
                                             DEFAULT_READ_TIMEOUT)
        self.write_timeout = self._float_conf('write_timeout',
                                              DEFAULT_WRITE_TIMEOUT)

    def _float_conf(self, key, default):
        try:
            return float(self.configuration.get(key, default))
        except (TypeError, ValueError):
            return default

    def _socket_error(self, message=None):
        if self.unix_socket is not None:
            self.error('unix socket "{socket}": {message}'.format(
                socket=self.unix_socket, message=message))
        elif self.__socket_config is not None:
            _, _, _, _, sa = self.__socket_config
            self.error('socket to "{address}" port {port}: {message}'.format(
                address=sa[0], port=sa[1], message=message))
        else:
            self.error('unknown socket: {0}'.format(message))

    def _connect2socket(self, res=None):
        """Connect to a TCP address of getaddrinfo; return whether that
        worked."""
        if res is None:
            res = self.__socket_config
            if res is None:
                self.error('Cannot create socket to "None":')
                return False
        af, sock_type, proto, _, sa = res
        try:
            self.debug('Creating socket to "{address}", port {port}'.format(
                address=sa[0], port=sa[1]))
            self._sock = socket.socket(af, sock_type, proto)
        except socket.error as error:
            self.error('Failed to create socket "{address}", port {port}, '
                       'error: {error}'.format(address=sa[0], port=sa[1],
                                               error=error))
            self._sock = None
            self.__socket_config = None
            return False
        if self.tls:
            try:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                if self.cert:
                    context.load_cert_chain(self.cert, self.key)
                self._sock = context.wrap_socket(self._sock,
                                                 server_hostname=self.host)
            except (socket.error, ssl.SSLError, OSError) as error:
                self.error('failed to wrap socket: {0}'.format(error))
                self._disconnect()
                self.__socket_config = None
                return False
        try:
            self._sock.settimeout(self.connect_timeout)
            self._sock.connect(sa)
        except (socket.error, ssl.SSLError) as error:
            self.error('Failed to connect to "{address}", port {port}, '
                       'error: {error}'.format(address=sa[0], port=sa[1],
                                               error=error))
            self._disconnect()
            self.__socket_config = None
            return False
        self.__socket_config = res
        return True

    def _connect2unixsocket(self):
        """Connect to the unix socket (DGRAM, then STREAM); return whether
        that worked."""
        try:
            if self.dgram_socket:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.settimeout(self.connect_timeout)
                self._sock.connect(self.unix_socket)
                return True
            try:
                self._sock = socket.socket(socket.AF_UNIX,
                                           socket.SOCK_STREAM)
                self._sock.settimeout(self.connect_timeout)
                self._sock.connect(self.unix_socket)
                return True
            except socket.error as error:
                if error.errno != errno.EPROTOTYPE:
                    raise
                self._disconnect()
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.settimeout(self.connect_timeout)
                self._sock.connect(self.unix_socket)
                self.dgram_socket = True
                return True
        except socket.error as error:
            self.error('Failed to connect to unix socket "{0}", error: {1}'
                       .format(self.unix_socket, error))
            self._disconnect()
            return False

    def _connect(self):
        """Connect to the configured socket (self._sock is None on
        failure)."""
        if self.unix_socket:
            self._connect2unixsocket()
            return
        if self.__socket_config is not None:
            self._connect2socket()
            return
        try:
            infos = socket.getaddrinfo(self.host, self.port,
                                       socket.AF_UNSPEC, socket.SOCK_STREAM)
        except (socket.gaierror, TypeError, OverflowError) as error:
            self.error('Failed to resolve "{0}", port {1}: {2}'.format(
                self.host, self.port, error))
            self._sock = None
            return
        for res in infos:
            if self._connect2socket(res):
                break

    def _disconnect(self):
        """Close the socket."""
        if self._sock is None:
            return
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except (OSError, socket.error):
            pass
        try:
            self._sock.close()
        except (OSError, socket.error):
            pass
        self._sock = None

    def _send(self, request=None):
        """Send request (default self.request); return whether that
        worked."""
        request = request if request is not None else self.request
        if isinstance(request, str):
            request = request.encode()
        if not request:
            return True
        try:
            self._sock.settimeout(self.write_timeout)
            self._sock.sendall(request)
        except (socket.error, ssl.SSLError) as error:
            self._socket_error('error sending request: {0}'.format(error))
            self._disconnect()
            return False
        return True

    def _receive(self, raw=False):
        """Read until _check_raw_data is true; return str (bytes when
        raw), possibly empty."""
        data = b'' if raw else ''
        while True:
            try:
                self._sock.settimeout(self.read_timeout)
                buf = self._sock.recv(4096)
            except (socket.error, ssl.SSLError) as error:
                self._socket_error('failed to receive response: {0}'
                                   .format(error))
                self._disconnect()
                break
            if not buf:
                self.debug('stopping read: connection closed')
                self._disconnect()
                break
            if raw:
                data += buf
            else:
                data += buf.decode('utf-8', 'ignore')
            if self._check_raw_data(data):
                break
        self.debug('final response: {0}'.format(data))
        return data

    def _get_raw_data(self, raw=False, request=None):
        """Send the request and return the response (str, or bytes when
        raw), or None."""
        if self._sock is None:
            self._connect()
            if self._sock is None:
                return None
        if not self._send(request):
            return None
        data = self._receive(raw)
        if not self._keep_alive:
            self._disconnect()
        return data

    @staticmethod
    def _check_raw_data(data):
        """Return whether data is a whole response; override this."""
        return bool(data)

    def _parse_config(self):
        """Read socket, host, port, tls, tls_key_file, tls_cert_file and
        request from the configuration."""
        try:
            self.unix_socket = str(self.configuration['socket'])
        except (KeyError, TypeError):
            self.debug('No unix socket specified. Trying TCP/IP socket.')
            self.unix_socket = None
            try:
                self.host = str(self.configuration['host'])
            except (KeyError, TypeError):
                self.debug('No host specified. Using: "{0}"'.format(
                    self.host))
            try:
                self.port = int(self.configuration['port'])
            except (KeyError, TypeError, ValueError):
                self.debug('No port specified. Using: "{0}"'.format(
                    self.port))
        self.tls = bool(self.configuration.get('tls', self.tls))
        if self.tls:
            self.key = self.configuration.get('tls_key_file', self.key)
            self.cert = self.configuration.get('tls_cert_file', self.cert)
            if not self.cert:
                self.cert = self.key
        self.request = self.configuration.get('request', self.request)
        if isinstance(self.request, str):
            self.request = self.request.encode()

    def check(self):
        """Parse the configuration, then test get_data()."""
        self._parse_config()
        return SimpleService.check(self)
