"""Two config and two shutdown callbacks of one name: the config
callback registered last is the one called, shutdowns run newest
first."""

import collectd

collectd.register_config(lambda conf: collectd.info('config first'))
collectd.register_config(lambda conf: collectd.info('config second'))
collectd.register_shutdown(lambda: collectd.info('shutdown first'))
collectd.register_shutdown(lambda: collectd.info('shutdown second'))
