"""SimpleService: the base of every python.d framework class.

The runtime builds one Service(configuration=...) per job, calls check(),
then create(), then run() on a thread of its own. run() calls update()
at every update_every boundary of the monotonic clock, plus a penalty
after every 5 consecutive failed updates.
"""

import sys
import threading
import time

from bases.charts import Charts, ChartError
from bases.loggers import PythonDLimitedLogger

PENALTY_EVERY = 5
MAX_PENALTY = 600
MODULE_PREFIX = 'pythond_'


class RuntimeCounters(object):
    """Counters of a job's runs, readable by modules as
    self._runtime_counters."""

    def __init__(self, configuration):
        self.update_every = int(configuration.pop('update_every'))
        self.do_penalty = configuration.pop('penalty')
        self.start_mono = 0
        self.start_real = 0
        self.retries = 0
        self.penalty = 0
        self.elapsed = 0
        self.prev_update = 0
        self.runs = 1

    def calc_next(self):
        """Return the monotonic time of the next run."""
        now = time.monotonic()
        return now - now % self.update_every + self.update_every + \
            self.penalty

    def sleep_until_next(self, stop=None):
        """Sleep until the next run (or until stop is set); return the
        monotonic time of the run."""
        next_time = self.calc_next()
        while True:
            now = time.monotonic()
            left = next_time - now
            if left <= 0:
                return now
            if stop is not None:
                if stop.wait(left):
                    return time.monotonic()
            else:
                time.sleep(left)

    def handle_retries(self):
        """Count a failed run and compute the penalty."""
        self.retries += 1
        if self.do_penalty and self.retries % PENALTY_EVERY == 0:
            self.penalty = int(round(min(self.retries * self.update_every
                                         / 2, MAX_PENALTY)))

    def reset(self):
        """Forget failed runs after a good one."""
        self.retries = 0
        self.penalty = 0


def clean_module_name(name):
    """Return the module name without the loader's prefix."""
    if name.startswith(MODULE_PREFIX):
        return name[len(MODULE_PREFIX):]
    return name


class SimpleService(PythonDLimitedLogger, object):
    """The base of every python.d service; subclasses override get_data()
    or _get_data() and usually check()."""

    def __init__(self, configuration, name=''):
        PythonDLimitedLogger.__init__(self)
        self.configuration = configuration
        self.order = list()
        self.definitions = dict()

        self.module_name = clean_module_name(self.__module__)
        self.job_name = configuration.pop('job_name')
        self.actual_job_name = self.job_name or self.module_name
        self.override_name = configuration.pop('override_name')
        self.fake_name = None

        self._runtime_counters = RuntimeCounters(configuration=configuration)
        self.charts = Charts(job_name=self.actual_name,
                             actual_job_name=self.actual_job_name,
                             priority=configuration.pop('priority'),
                             cleanup=configuration.pop('chart_cleanup'),
                             get_update_every=self.get_update_every,
                             module_name=self.module_name,
                             output=self._chart_output)
        self._pending = []
        self._sender = None
        self._stop_event = threading.Event()

    def __repr__(self):
        return '<{cls_bases}: {name}>'.format(
            cls_bases=', '.join(c.__name__ for c in self.__class__.__bases__),
            name=self.name)

    @property
    def name(self):
        """The chart type of the job: <module>_<name or job name>, or the
        module name alone."""
        name = self.override_name or self.job_name
        if name and name != self.module_name:
            return '_'.join([self.module_name, name])
        return self.module_name

    def actual_name(self):
        """fake_name if set, else name."""
        return self.fake_name or self.name

    @property
    def runs_counter(self):
        """Runs so far, starting at 1."""
        return self._runtime_counters.runs

    @property
    def update_every(self):
        """The job's update interval in seconds."""
        return self._runtime_counters.update_every

    @update_every.setter
    def update_every(self, value):
        self._runtime_counters.update_every = value

    def get_update_every(self):
        """Return update_every."""
        return self.update_every

    def _chart_output(self, text):
        self._pending.append(text + '\n')

    def _flush_output(self):
        """Hand the text the charts wrote since the last call to the
        sender (stdout by default)."""
        if not self._pending:
            return
        text = ''.join(self._pending)
        self._pending = []
        if self._sender is not None:
            self._sender(self, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()

    def check(self):
        """Return whether the job can run: get_data() gave a non-empty
        dict."""
        data = self.get_data()
        if not data:
            self.debug('failed to receive data during check().')
            return False
        if not isinstance(data, dict):
            self.debug('data received during check() is not a dict')
            return False
        self.debug('check() succeeded')
        return True

    def create(self):
        """Create the charts of self.order from self.definitions, then
        delete both; return whether the job has charts."""
        for chart_name in self.order:
            if chart_name not in self.definitions:
                continue
            chart_config = self.definitions[chart_name]
            chart_params = [chart_name] + list(chart_config['options'])
            try:
                chart = self.charts.add_chart(params=chart_params)
            except ChartError as error:
                self.error("create() => [{0}] chart '{1}' error: {2}"
                           .format(self.name, chart_name, error))
                continue
            for line in chart_config.get('lines', []):
                chart.add_dimension(list(line))
            for variable in chart_config.get('variables', []):
                chart.add_variable(list(variable))
        del self.order
        del self.definitions
        return bool(self.charts)

    def run(self):
        """Run update() at every update_every boundary until stopped."""
        job = self._runtime_counters
        self.debug('started, update frequency: {freq}'.format(
            freq=job.update_every))
        while not self._stop_event.is_set():
            job.sleep_until_next(self._stop_event)
            if self._stop_event.is_set():
                break
            now = time.monotonic()
            since_last = int((now - job.prev_update) * 1e6) \
                if job.prev_update else 0
            try:
                updated = self.update(interval=since_last)
            except Exception as error:
                self.error('update() unhandled exception: {0}'.format(error))
                updated = False
            job.runs += 1
            if not updated:
                job.handle_retries()
                self._flush_output()
                continue
            job.elapsed = int((time.monotonic() - now) * 1e3)
            job.prev_update = now
            job.reset()
            self._flush_output()

    def stop(self):
        """Make run() return after the current update."""
        self._stop_event.set()

    def update(self, interval):
        """Collect once and write the charts' values; return whether any
        chart got a value."""
        data = self.get_data()
        if not data:
            self.debug('get_data() returned no data')
            return False
        if not isinstance(data, dict):
            self.debug('get_data() returned incorrect type data')
            return False
        updated = False
        for chart in self.charts:
            if chart.flags.obsoleted:
                if chart.can_be_updated(data):
                    chart.refresh()
                else:
                    continue
            elif self.charts.cleanup and \
                    chart.penalty >= self.charts.cleanup:
                chart.obsolete()
                self.info("chart '{0}' was suppressed due to non "
                          "updating".format(chart.name))
                continue
            ok = chart.update(data, interval)
            updated = updated or ok
        if not updated:
            self.debug('none of the charts has been updated')
        return updated

    def get_data(self):
        """Return {dimension id: value}; by default _get_data()."""
        return self._get_data()

    def _get_data(self):
        raise NotImplementedError
