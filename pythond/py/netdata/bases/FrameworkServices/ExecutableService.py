"""ExecutableService: python.d services that run a command.

self.command (set by the module; config "command" overrides it) is split
on whitespace; an argument with any of & | ; > < rejects the job (there
is no shell). A bare name is looked up in $PATH, /usr/sbin and /sbin.
"""

import os
from subprocess import Popen, PIPE

from bases.FrameworkServices.SimpleService import SimpleService
from bases.collection import find_binary

BAD_CHARS = ('&', '|', ';', '>', '<')


class ExecutableService(SimpleService):
    """A service whose _get_raw_data() returns a command's output lines."""

    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.command = None

    def _get_raw_data(self, stderr=False, command=None):
        """Run the command (or command) and return its stdout lines
        (stderr lines with stderr=True), each with its newline; None when
        it cannot run."""
        command = command or self.command
        self.debug("Executing command '{0}'".format(
            ' '.join(command) if isinstance(command, list) else command))
        try:
            p = Popen(command, stdout=PIPE, stderr=PIPE)
        except Exception as error:
            self.error('Executing command {0} resulted in error: {1}'.format(
                command, error))
            return None
        out, err = p.communicate()
        data = list()
        std = err if stderr else out
        for line in std.decode('utf-8', 'replace').splitlines(True):
            data.append(line)
        if not data:
            self.debug('No data collected.')
            return None
        return data

    def check(self):
        """Validate and resolve the command, then test _get_data()."""
        command = self.configuration.get('command', self.command)
        if isinstance(command, list):
            command = ' '.join(str(c) for c in command)
        if not command or not isinstance(command, str):
            self._config_error = 'no command to run (set "command")'
            self.error('Command is not defined')
            return False
        self.command = command.split()
        for arg in self.command:
            for bad in BAD_CHARS:
                if bad in arg:
                    self._config_error = (
                        'command {0!r} has the forbidden character {1!r} '
                        '(one of & | ; > <; commands run without a shell)'
                        .format(command, bad))
                    self.error('Bad command argument: {0!r}: forbidden '
                               'character {1!r}'.format(arg, bad))
                    return False
        binary = self.command[0]
        if '/' not in binary:
            found = find_binary(binary)
            if not found:
                self.error("Can't locate '{0}' binary".format(binary))
                return False
            self.command[0] = found
        elif not os.access(binary, os.X_OK):
            self.error("Cannot execute '{0}'".format(binary))
            return False
        try:
            data = self._get_data()
        except Exception as error:
            self.error('_get_data() failed. Command: {0}. Error: {1}'.format(
                self.command, error))
            return False
        if isinstance(data, dict) and data:
            return True
        self.error('Command {0} returned no data'.format(self.command))
        return False
