"""Dispatches the numbers held in files, one thread per file, at an
interval of its own. Each derive file is a byte counter that grows by its
own value at every read (as a NIC's would).

    <Module filecounters>
      DeriveFiles "/x/rx_bytes" "/x/tx_bytes"
      GaugeFiles "/x/queue"
      Interval 2
      PluginName "files"
      Verbose false
    </Module>
"""

import os
import threading

import collectd


class FileCounters(object):
    def __init__(self):
        self.derive_files = []
        self.gauge_files = []
        self.interval = 10.0
        self.plugin = 'filecounters'
        self.verbose = False
        self.reads = 0
        self.lock = threading.Lock()

    def configure(self, conf):
        for node in conf.children:
            key = node.key.lower()
            if key == 'derivefiles':
                self.derive_files.extend(node.values)
            elif key == 'gaugefiles':
                self.gauge_files.extend(node.values)
            elif key == 'interval':
                self.interval = float(node.values[0])
            elif key == 'pluginname':
                self.plugin = node.values[0]
            elif key == 'verbose':
                self.verbose = bool(node.values[0])
            else:
                collectd.warning('filecounters: unknown option %s' % node.key)
        collectd.register_read(self.read, self.interval,
                               name='filecounters')

    def dispatch_file(self, path, kind, reads):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError as err:
            collectd.warning('filecounters: %s: %s' % (path, err))
            return
        if kind == 'derive':
            values = [int(text) * reads]
        else:
            values = [float(text) + reads / 4.0]
        collectd.Values(
            plugin=self.plugin,
            plugin_instance=os.path.basename(os.path.dirname(path)),
            type=kind,
            type_instance=os.path.basename(path),
            values=values,
            meta={'0': True, 'reads': reads,
                  'file': os.path.basename(path)},
        ).dispatch(interval=self.interval)

    def read(self):
        with self.lock:
            self.reads += 1
            reads = self.reads
        workers = []
        for kind, paths in (('derive', self.derive_files),
                            ('gauge', self.gauge_files)):
            for path in paths:
                t = threading.Thread(target=self.dispatch_file,
                                     args=(path, kind, reads))
                t.start()
                workers.append(t)
        for t in workers:
            t.join()
        if self.verbose:
            collectd.info('filecounters: read %d done' % reads)


COUNTERS = FileCounters()
collectd.register_config(COUNTERS.configure)
