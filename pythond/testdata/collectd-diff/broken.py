"""A plugin that fails at import: the daemon logs it and runs the others."""

import collectd

collectd.info('broken: importing')
raise ImportError('broken needs a library that is not installed')
