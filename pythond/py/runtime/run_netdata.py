"""collectkit's runner for Netdata python.d modules.

    python3 run_netdata.py --name INPUT --jobs-file FILE
                           [--update-every N] [--stdout] [--debug]

FILE is the JSON the host writes from python.d.conf and the modules'
<module>.conf files:

    {"update_every_min": 1,
     "modules": [{"name": "example", "path": "/abs/example.chart.py",
                  "enabled_explicitly": false,
                  "jobs": [{"job_name": "two_lines",
                            "override_name": "Two_Lines",
                            "update_every": 1, "priority": 60000,
                            "autodetection_retry": 0, "chart_cleanup": 10,
                            "penalty": true, "explicit": ["update_every"],
                            "config": {"num_lines": 2}}]}]}

Each module is loaded as pythond_<name> (so a service's module_name is
<name>) with only ../netdata (bases, third_party) and the modules' dirs
on sys.path. Of the five job defaults, a key the job or its conf file did
not set ("explicit") takes the module's global of that name when it is
not None; update_every is then raised to the minimum (--update-every, or
the file's update_every_min). A module with disabled_by_default = True
runs only when enabled_explicitly.

Jobs run as python.d.plugin 1.37 runs them: Service(configuration=...),
check() (a falsy result fails the job, or makes it recovering and checked
again every autodetection_retry seconds), create(), then the update loop
on a daemon thread of its own. Jobs of one module with the same name
(the name: override, else the job key) are tried in file order and the
first whose check passes serves them; the others are rejected as
"already served by another job". Every job has its own thread from the
start, so a module that blocks in check() or get_data() holds up only
that job.

Frames sent to the host (pythond/internal/wire specifies the layout):

    b"P"  meta: the job's full name (the chart type, example_Two_Lines);
          payload: the plugins.d text of one update of that job.
    b"J"  meta: the job's full name; payload: JSON {"module", "job",
          "name", "state", "error"}, state one of active, recovering,
          failed, rejected, stopped, sent when a job's state changes.
    b"G"  log records of the modules and of this runner.

With --stdout no channel is used: the plugins.d text goes to stdout as
python.d.plugin prints it (so the two can be compared), and logs and job
states go to stderr. Whatever a module prints goes to stderr in both
modes. The process runs until it is stopped; when no job is left to
run it logs "no jobs to serve" (reason no_collectors) and exits with 3,
or with --stdout writes DISABLE and exits with 0.
"""

import argparse
import copy
import importlib.machinery
import importlib.util
import json
import os
import re
import signal
import sys
import threading
import time
import traceback

import _collectkit_channel

EXIT_NO_JOBS = 3
JOB_DEFAULTS = ('update_every', 'priority', 'autodetection_retry',
                'chart_cleanup', 'penalty')
BASE_DEFAULTS = {'update_every': 1, 'priority': 60000,
                 'autodetection_retry': 0, 'chart_cleanup': 10,
                 'penalty': True}
_RUNTIME_MODULES = ('_collectkit_channel', '_collectkit_loader',
                    '_collectkit_scheduler', 'run_netdata', 'run_datakit')
MISSING_HINTS = {
    'urllib3': 'python3-urllib3 (pip install urllib3)',
    'yaml': 'python3-yaml (pip install pyyaml)',
    'MySQLdb': 'python3-mysqldb (pip install mysqlclient)',
    'pymysql': 'python3-pymysql (pip install pymysql)',
    'requests': 'python3-requests (pip install requests)',
}


class MissingHintFinder(object):
    """Last finder on sys.meta_path: an import of a well-known package
    that no other finder found fails with the package to install."""

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition('.')[0]
        hint = MISSING_HINTS.get(top)
        if hint is None:
            return None
        raise ModuleNotFoundError(
            "No module named '{0}': install {1}".format(fullname, hint),
            name=fullname)


class Host(object):
    """Where frames, logs and job states go: the channel, or stdout and
    stderr in --stdout mode."""

    def __init__(self, channel, data_out):
        self.channel = channel
        self.data_out = data_out
        # Held by every write, and by exit() to the end, so that no
        # frame or line is cut short when the process stops.
        self.lock = threading.RLock()

    def _send(self, kind, meta, payload):
        with self.lock:
            try:
                self.channel.send_frame(kind, meta, payload)
            except _collectkit_channel.ChannelClosed:
                os._exit(0)

    def exit(self, code):
        """End the process once no write is in progress."""
        self.lock.acquire()
        os._exit(code)

    def data(self, name, text):
        payload = text.encode('utf-8', 'replace')
        if self.channel is None:
            with self.lock:
                try:
                    self.data_out.write(payload)
                except OSError:
                    os._exit(0)
            return
        self._send(b'P', name.encode('utf-8', 'replace'), payload)

    def log(self, level, collector, event, message, tb='', **extra):
        if self.channel is not None:
            record = {'level': level, 'collector': collector,
                      'event': event, 'message': message, 'traceback': tb}
            record.update(extra)
            with self.lock:
                try:
                    self.channel.send_json(self.channel.KIND_LOG, record)
                except _collectkit_channel.ChannelClosed:
                    os._exit(0)
            return
        line = '{0}: python.d {1}: {2} : {3}'.format(
            time.strftime('%Y-%m-%d %H:%M:%S'), level.upper(),
            collector or 'plugin[main]', message)
        if tb:
            line += '\n' + tb.rstrip('\n')
        with self.lock:
            try:
                sys.stderr.write(line + '\n')
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    def state(self, job, state, error=''):
        record = {'module': job.module, 'job': job.job_name,
                  'name': job.full_name, 'state': state, 'error': error}
        if self.channel is None:
            self.log('info', 'plugin[main]', 'state',
                     'job {0} state {1}'.format(job.full_name,
                                                json.dumps(record)))
            return
        self._send(b'J', job.full_name.encode('utf-8', 'replace'),
                   json.dumps(record).encode('utf-8'))


def underscored(name):
    """Runs of whitespace become one "_", as python.d names jobs."""
    return re.sub(r'\s+', '_', str(name)) if name else ''


def job_config(module, job, update_every_min):
    """Return the dict for Service(configuration=...)."""
    config = copy.deepcopy(job.get('config') or {})
    config.pop('name', None)
    explicit = set(job.get('explicit') or ())
    for key in JOB_DEFAULTS:
        value = job.get(key, BASE_DEFAULTS[key])
        if key not in explicit:
            glob = getattr(module, key, None)
            if glob is not None:
                value = glob
        config[key] = value
    try:
        config['update_every'] = max(int(config['update_every']),
                                     update_every_min)
    except (TypeError, ValueError):
        config['update_every'] = max(1, update_every_min)
    config['job_name'] = underscored(job.get('job_name', ''))
    config['override_name'] = underscored(job.get('override_name', ''))
    return config


def full_name(module_name, job_name, override_name):
    name = override_name or job_name
    if name and name != module_name:
        return module_name + '_' + name
    return module_name


def load_module(name, path):
    """Load <name>.chart.py as pythond_<name>."""
    mod_name = 'pythond_' + name
    loader = importlib.machinery.SourceFileLoader(mod_name, path)
    spec = importlib.util.spec_from_loader(mod_name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    return module


def config_error(service):
    """Return why the job's configuration can never work, or ''."""
    reason = getattr(service, '_config_error', '')
    return reason if isinstance(reason, str) else ''


class Job(object):
    """One configured job of a module and its state."""

    def __init__(self, host, module, module_name, config):
        self.host = host
        self.module = module_name
        self.py_module = module
        self.config = config
        self.job_name = config['job_name']
        self.actual = config['override_name'] or config['job_name']
        self.full_name = full_name(module_name, config['job_name'],
                                   config['override_name'])
        self.retry = config.get('autodetection_retry') or 0
        try:
            self.retry = int(self.retry)
        except (TypeError, ValueError):
            self.retry = 0
        self.service = None
        self.state = ''

    @property
    def collector(self):
        return '{0}[{1}]'.format(self.module, self.job_name)

    def set_state(self, state, error=''):
        if state == self.state:
            return
        self.state = state
        self.host.state(self, state, error)

    def fail(self, event, message, tb=''):
        self.host.log('error', self.collector, event, message, tb)
        self.set_state('failed', message)

    def init(self):
        """Build the service; return whether that worked."""
        try:
            self.service = self.py_module.Service(
                configuration=copy.deepcopy(self.config))
        except (Exception, SystemExit) as exc:
            self.fail('init', 'unhandled exception on init : {0!r}, '
                      'skipping the job'.format(exc), traceback.format_exc())
            return False
        self.service._sender = self._send_text
        self.full_name = self.service.name
        return True

    def _send_text(self, service, text):
        self.host.data(self.full_name, text)

    def check(self):
        """Run check(); return 'ok', 'retry' or 'drop'."""
        try:
            ok = self.service.check()
        except (Exception, SystemExit) as exc:
            self.fail('check', 'unhandled exception on check : {0!r}, '
                      'skipping the job'.format(exc), traceback.format_exc())
            return 'drop'
        if ok:
            self.host.log('info', 'plugin[main]', 'check',
                          '{0} : check success'.format(self.collector))
            return 'ok'
        reason = config_error(self.service)
        if reason:
            self.host.log('error', self.collector, 'check',
                          'job rejected: ' + reason)
            self.set_state('rejected', reason)
            return 'drop'
        self.host.log('info', 'plugin[main]', 'check',
                      '{0} : check failed'.format(self.collector))
        if self.retry > 0:
            self.set_state('recovering', 'check failed')
            return 'retry'
        self.set_state('failed', 'check failed')
        return 'drop'

    def create(self):
        """Create the charts; return whether that worked."""
        service = self.service
        if not getattr(service, 'order', None) and \
                getattr(self.py_module, 'ORDER', None) and \
                getattr(self.py_module, 'CHARTS', None) and \
                hasattr(service, 'definitions'):
            service.order = self.py_module.ORDER
            service.definitions = self.py_module.CHARTS
        try:
            service.create()
        except (Exception, SystemExit) as exc:
            self.fail('init', 'unhandled exception on create : {0!r}, '
                      'skipping the job'.format(exc), traceback.format_exc())
            return False
        return True

    def run(self):
        self.set_state('active')
        try:
            self.service.run()
        except (Exception, SystemExit) as exc:
            self.fail('run', 'unhandled exception in run : {0!r}'.format(exc),
                      traceback.format_exc())
            return
        self.set_state('stopped')


def serve_group(host, jobs):
    """Run the jobs that share one name: the first that passes check()
    serves, the others are rejected."""
    candidates = []
    for job in jobs:
        if job.init():
            candidates.append(job)
    winner = None
    pending = list(candidates)
    first = True
    while pending and winner is None:
        if not first:
            wait = min(job.retry for job in pending)
            time.sleep(wait)
        first = False
        still = []
        for job in pending:
            result = job.check()
            if result == 'ok':
                winner = job
                break
            if result == 'retry':
                still.append(job)
        if winner is not None:
            still.extend(j for j in pending
                         if j is not winner and j not in still
                         and pending.index(j) > pending.index(winner))
        pending = still
    if winner is None:
        return
    # The others first: the host keys states by the jobs' shared name,
    # so the last state it gets for that name is the winner's.
    for job in pending:
        if job is winner:
            continue
        host.log('info', 'plugin[main]', 'check',
                 '{0} : already served by another job, skipping it'
                 .format(job.collector))
        job.set_state('rejected', 'already served by another job')
    if winner.create():
        winner.run()


def drop_module(host, name, jobs, update_every_min, state, error):
    """Give every job of a module that does not run the state."""
    for spec_job in jobs:
        Job(host, None, name,
            job_config(None, spec_job, update_every_min)).set_state(
                state, error)


def build_jobs(host, spec, update_every_min):
    """Load the modules of the jobs file; return the groups of jobs."""
    groups = []
    for mod in spec.get('modules') or ():
        name = mod.get('name') or ''
        path = mod.get('path') or ''
        jobs = mod.get('jobs') or [{'job_name': name}]
        try:
            module = load_module(name, path)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            message = 'module {0} ({1}) cannot be loaded: {2}: {3}'.format(
                name, path, type(exc).__name__, exc)
            host.log('error', '{0}[main]'.format(name), 'import', message,
                     traceback.format_exc())
            drop_module(host, name, jobs, update_every_min, 'failed',
                        message)
            continue
        if not callable(getattr(module, 'Service', None)):
            message = 'module {0} ({1}) has no Service class'.format(
                name, path)
            host.log('error', '{0}[main]'.format(name), 'import', message)
            drop_module(host, name, jobs, update_every_min, 'failed',
                        message)
            continue
        if getattr(module, 'disabled_by_default', False) and \
                not mod.get('enabled_explicitly'):
            message = ('[{0}] is disabled by default, skipping it (enable '
                       'it with "{0}: yes" in python.d.conf)'.format(name))
            host.log('info', 'plugin[main]', 'discover', message)
            drop_module(host, name, jobs, update_every_min, 'rejected',
                        'module is disabled by default (disabled_by_default'
                        ' = True) and not enabled in python.d.conf')
            continue
        by_name = {}
        order = []
        for spec_job in jobs:
            job = Job(host, module, name,
                      job_config(module, spec_job, update_every_min))
            if job.actual not in by_name:
                by_name[job.actual] = []
                order.append(job.actual)
            by_name[job.actual].append(job)
        host.log('info', 'plugin[main]', 'discover',
                 '[{0}] built {1} job(s) configs'.format(name, len(jobs)))
        for key in order:
            groups.append(by_name[key])
    return groups


def isolate(here, netdata_dir, module_dirs):
    """Only the netdata folder and the modules' dirs before the standard
    library: the runtime's own dir and modules are not importable."""
    here = os.path.realpath(here)
    rest = [p for p in sys.path
            if p and os.path.realpath(p) != here
            and os.path.realpath(p) != os.path.realpath(os.curdir)]
    front = [netdata_dir]
    for d in module_dirs:
        if d not in front:
            front.append(d)
    sys.path[:] = front + [p for p in rest if p not in front]
    for name in _RUNTIME_MODULES:
        sys.modules.pop(name, None)
    sys.meta_path.append(MissingHintFinder())


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(prog='run_netdata')
    parser.add_argument('--name', required=True)
    parser.add_argument('--jobs-file', required=True)
    parser.add_argument('--update-every', type=int, default=0)
    parser.add_argument('--netdata-dir',
                        default=os.path.join(os.path.dirname(here),
                                             'netdata'))
    parser.add_argument('--stdout', action='store_true')
    parser.add_argument('--debug', action='store_true')
    args = parser.parse_args(argv)

    channel = None
    data_out = None
    if args.stdout:
        os.environ.pop(_collectkit_channel.FDS_ENV, None)
        data_out = os.fdopen(os.dup(1), 'wb', buffering=0)
    else:
        channel = _collectkit_channel.Channel.from_env(os.environ)
        if channel is None:
            sys.stderr.write('run_netdata: no host channel (%s is not set); '
                             'use --stdout to run on its own\n'
                             % _collectkit_channel.FDS_ENV)
            return 2
    # Nothing a module prints, nor its subprocesses, reaches stdout.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    host = Host(channel, data_out)

    try:
        with open(args.jobs_file, 'r') as f:
            spec = json.load(f)
    except (OSError, ValueError) as exc:
        host.log('error', 'plugin[main]', 'discover',
                 'cannot read jobs file {0}: {1}'.format(args.jobs_file, exc))
        return 2
    update_every_min = args.update_every or \
        int(spec.get('update_every_min') or 1)

    module_dirs = []
    for mod in spec.get('modules') or ():
        d = os.path.dirname(os.path.abspath(mod.get('path') or '.'))
        if d not in module_dirs:
            module_dirs.append(d)
    isolate(here, os.path.abspath(args.netdata_dir), module_dirs)

    from bases import loggers

    def sink(level, collector, message, tb):
        host.log(level, collector, 'log', message, tb)

    loggers.set_sink(sink, 'DEBUG' if args.debug else 'INFO')

    groups = build_jobs(host, spec, update_every_min)
    threads = []
    for group in groups:
        t = threading.Thread(target=serve_group, args=(host, group),
                             name=group[0].full_name, daemon=True)
        t.start()
        threads.append(t)

    def stop(signum, frame):
        for group in groups:
            for job in group:
                if job.state == 'active':
                    job.set_state('stopped')
        host.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(1.0)
    host.log('info', 'plugin[main]', 'discover', 'no jobs to serve',
             reason='no_collectors')
    if channel is None:
        data_out.write(b'DISABLE\n')
        return 0
    return EXIT_NO_JOBS


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
