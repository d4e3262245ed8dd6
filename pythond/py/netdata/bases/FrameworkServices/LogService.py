"""LogService: python.d services that follow a log file.

Config "path" (a glob: the greatest matching name is used) is the log;
create() seeks to its end, so only lines appended later are read.
"""

import glob
import os

from bases.FrameworkServices.SimpleService import SimpleService


class LogService(SimpleService):
    """A service that reads the lines appended to log_path."""

    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.log_path = self.configuration.get('path')
        self.__glob_path = self.log_path
        self._last_position = 0
        self.__re_find = dict(current=0, run=0, maximum=60)
        self.__open_args = {'mode': 'r', 'encoding': 'utf-8',
                            'errors': 'replace'}

    def _get_raw_data(self):
        """Return the lines appended since the last call ([] when the
        size did not change, None on an error or when none was read)."""
        lines = list()
        try:
            if self.__re_find['current'] == self.__re_find['run']:
                self._find_recent_log_file()
            size = os.path.getsize(self.log_path)
            if size == self._last_position:
                self.__re_find['current'] += 1
                return list()
            if size < self._last_position:
                self._last_position = 0
            with open(self.log_path, **self.__open_args) as fp:
                fp.seek(self._last_position)
                for line in fp:
                    lines.append(line)
                self._last_position = fp.tell()
                self.__re_find['current'] = 0
        except (OSError, IOError) as error:
            self.__re_find['current'] += 1
            self.error(str(error))
            return None
        return lines or None

    def _find_recent_log_file(self):
        """Pick the greatest file name the glob matches as log_path."""
        self.__re_find['run'] = self.__re_find['maximum']
        self.__re_find['current'] = 0
        self.__glob_path = self.__glob_path or self.log_path
        path_list = glob.glob(self.__glob_path)
        if path_list:
            self.log_path = max(path_list)
            return True
        return False

    def check(self):
        """The path must be set and name a readable regular file."""
        if not self.log_path:
            self.error('No path to log specified')
            return None
        if self._find_recent_log_file() and \
                os.access(self.log_path, os.R_OK) and \
                os.path.isfile(self.log_path):
            return True
        self.error('Cannot access {0}'.format(self.log_path))
        return False

    def create(self):
        """Seek to the end of the log, then create the charts."""
        try:
            self._last_position = os.path.getsize(self.log_path)
        except (OSError, IOError, TypeError):
            pass
        return SimpleService.create(self)
