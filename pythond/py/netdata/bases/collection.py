"""Helpers that python.d modules import from bases.collection."""

import os
import sys
import threading

PATH = os.getenv('PATH', '/usr/local/bin:/usr/bin:/bin').split(':')

_print_lock = threading.Lock()


def setdefault_values(config, base_dict):
    """Set every key of base_dict missing in config; return config."""
    for key, value in base_dict.items():
        config.setdefault(key, value)
    return config


def run_and_exit(func):
    """Decorator: call func(*args, **kwargs) and then exit the process."""
    def wrapper(*args, **kwargs):
        func(*args, **kwargs)
        exit(1)
    return wrapper


def on_try_except_finally(on_except=(None, ), on_finally=(None, )):
    """Decorator: call on_except[0](*on_except[1:]) when the function
    raises (the exception is swallowed) and on_finally[0](...) after it."""
    except_func = on_except[0]
    finally_func = on_finally[0]

    def decorator(func):
        def wrapper(*args, **kwargs):
            try:
                func(*args, **kwargs)
            except Exception:
                if except_func:
                    except_func(*on_except[1:])
            finally:
                if finally_func:
                    finally_func(*on_finally[1:])
        return wrapper
    return decorator


def static_vars(**kwargs):
    """Decorator: set kwargs as attributes of the function."""
    def decorate(func):
        for key in kwargs:
            setattr(func, key, kwargs[key])
        return func
    return decorate


@on_try_except_finally(on_except=(exit, 1))
def safe_print(*msg):
    """Write the joined messages and a newline to stdout under a lock,
    so that lines of several threads never interleave."""
    with _print_lock:
        sys.stdout.write(''.join(msg) + '\n')
        sys.stdout.flush()


def find_binary(binary):
    """Return the path of binary in PATH, /usr/sbin or /sbin, or None."""
    for directory in PATH + ['/usr/sbin', '/sbin']:
        if not directory:
            continue
        binary_name = os.path.join(directory, binary)
        if os.path.isfile(binary_name) and os.access(binary_name, os.X_OK):
            return binary_name
    return None


def read_last_line(f):
    """Return the last line of file f (a path), or the whole file when it
    has a single line."""
    with open(f, 'rb') as opened:
        opened.seek(0, 2)
        end = opened.tell()
        if end == 0:
            return ''
        pos = end - 2 if end >= 2 else 0
        while pos > 0:
            opened.seek(pos)
            if opened.read(1) == b'\n':
                pos += 1
                break
            pos -= 1
        opened.seek(max(pos, 0))
        result = opened.readline()
    return result.decode()


def unicode_str(arg):
    """Return arg as a str (bytes are decoded as UTF-8)."""
    if isinstance(arg, bytes):
        return arg.decode('utf-8', 'replace')
    return str(arg)
