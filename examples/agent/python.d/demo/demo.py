# encoding: utf-8
"""A demo collector in DataKit's pythond style.

Every 10 seconds it reports a few metrics about this Python process, one log
line and one keyevent, exactly as a DataKit user script would.
"""

import os
import time

from datakit_framework import DataKitFramework


class Demo(DataKitFramework):
    name = 'demo'
    interval = 10  # seconds between runs

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.runs = 0

    def run(self):
        self.runs += 1
        load1, load5, load15 = os.getloadavg()
        data = [
            {
                "measurement": "demo_system",
                "tags": {"collector": "demo"},
                "fields": {
                    "load1": load1,
                    "load5": load5,
                    "load15": load15,
                    "runs": self.runs,
                },
            },
            {
                "measurement": "demo_process",
                "tags": {"collector": "demo", "pid": str(os.getpid())},
                "fields": {"cpu_seconds": time.process_time(), "alive": True},
            },
        ]
        self.report({'M': data, 'input': 'demo'})
        self.feed_logging(
            source='demo',
            tags={'collector': 'demo'},
            message='demo run %d finished' % self.runs,
            status='info',
        )
        return self.feed_system_event(
            tags={'collector': 'demo'},
            df_status='ok',
            df_event_id='demo-heartbeat-%d' % self.runs,
            df_title='demo heartbeat',
            df_message='demo collector ran %d times' % self.runs,
        )
