"""Offline guard, loaded at interpreter start when this folder is on PYTHONPATH (see the Makefile).

Any attempt to resolve a non-local host name or to connect a socket to a non-loopback address is
refused with OSError and appended to the file named by `$TL_COURSE_NET_LOG`, so `make test` can fail
even when library code swallows the error (as hub clients do)."""
import os, socket

_LOG = os.environ.get('TL_COURSE_NET_LOG')
_LOCAL_NAMES = {'localhost', 'localhost.localdomain', 'ip6-localhost', ''}

def _is_local(host) -> bool:
    if isinstance(host, bytes): host = host.decode()
    if host is None: return True
    host = str(host).strip('[]').lower()
    return host in _LOCAL_NAMES or host.startswith('127.') or host == '::1' or host == '0.0.0.0'

def _refuse(what):
    msg = f"tl_course offline guard: blocked {what}"
    if _LOG:
        with open(_LOG, 'a') as f: f.write(msg + '\n')
    raise OSError(msg)

_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

def _inet(sock): return sock.family in (socket.AF_INET, socket.AF_INET6)

def connect(self, address):
    if _inet(self) and not _is_local(address[0]): _refuse(f"connection to {address}")
    return _connect(self, address)

def connect_ex(self, address):
    if _inet(self) and not _is_local(address[0]): _refuse(f"connection to {address}")
    return _connect_ex(self, address)

def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host): _refuse(f"name lookup of {host!r}")
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
