"""MySQLService: python.d services that run MySQL queries.

It needs a MySQL driver: MySQLdb (python3-mysqldb) or, failing that,
pymysql (python3-pymysql). Without either, check() fails the job with an
error naming them.
"""

from bases.FrameworkServices.SimpleService import SimpleService

try:
    import MySQLdb
    PY_MYSQL = True
except ImportError:
    try:
        import pymysql as MySQLdb
        PY_MYSQL = True
    except ImportError:
        MySQLdb = None
        PY_MYSQL = False

NO_DRIVER = ('MySQLService needs MySQLdb or pymysql: install '
             'python3-mysqldb or python3-pymysql')


class MySQLService(SimpleService):
    """A service whose _get_raw_data() runs self.queries
    ({name: query})."""

    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.__connection = None
        self.__conn_properties = dict()
        self.extra_conn_properties = dict()
        self.__queries = self.configuration.get('queries', dict())
        self.queries = dict()

    def __connect(self):
        try:
            connection = MySQLdb.connect(connect_timeout=self.update_every,
                                         **self.__conn_properties)
        except (MySQLdb.MySQLError, TypeError, AttributeError) as error:
            return None, str(error)
        return connection, None

    def check(self):
        """Build the connection properties from the configuration, connect
        and test _get_data()."""
        def get_connection_properties(conf, extra_conf):
            properties = dict()
            if conf.get('user'):
                properties['user'] = conf['user']
            if conf.get('pass'):
                properties['passwd'] = conf['pass']
            if conf.get('socket'):
                properties['unix_socket'] = conf['socket']
            elif conf.get('host'):
                properties['host'] = conf['host']
                properties['port'] = int(conf.get('port', 3306))
            elif conf.get('my.cnf'):
                properties['read_default_file'] = conf['my.cnf']
            if conf.get('ssl'):
                properties['ssl'] = conf['ssl']
            if isinstance(extra_conf, dict) and extra_conf:
                properties.update(extra_conf)
            return properties or None

        def is_valid_queries_dict(raw_queries, log_error):
            if not isinstance(raw_queries, dict) or not raw_queries:
                log_error("Queries dict is empty or not a dict")
                return None
            valid = dict()
            for name, query in raw_queries.items():
                if not isinstance(query, str):
                    log_error("Ignoring '{0}': {1} is not a str".format(
                        name, query))
                    continue
                if not query.upper().startswith(('SELECT', 'SHOW')):
                    log_error("Ignoring '{0}': not a SELECT or SHOW "
                              "query".format(name))
                    continue
                valid[name] = query
            return valid

        if not PY_MYSQL:
            self._config_error = NO_DRIVER
            self.error(NO_DRIVER)
            return False
        self.__conn_properties = get_connection_properties(
            self.configuration, self.extra_conn_properties)
        if not self.__conn_properties:
            self.error('Connection properties are missing')
            return False
        if self.__queries:
            queries = is_valid_queries_dict(self.__queries, self.error)
            if queries:
                self.queries = queries
        if not self.queries:
            self.error('no queries to run')
            return False
        self.__connection, error = self.__connect()
        if error:
            self.error('Can\'t establish connection to MySQL: {0}'.format(
                error))
            return False
        try:
            data = self._get_data()
        except Exception as error:
            self.error('_get_data() failed. Error: {0}'.format(error))
            return False
        if isinstance(data, dict) and data:
            return True
        self.error('_get_data() returned no data or type is not <dict>')
        return False

    def _get_raw_data(self, description=None):
        """Run every query; return {name: rows}, or {name: (rows,
        cursor.description)} with description; None on an error."""
        if not self.__connection:
            self.__connection, error = self.__connect()
            if error:
                return None
        raw_data = dict()
        queries = dict(self.queries)
        try:
            cursor = self.__connection.cursor()
            try:
                for name, query in queries.items():
                    try:
                        cursor.execute(query)
                    except (MySQLdb.ProgrammingError,
                            MySQLdb.OperationalError) as error:
                        if self.__is_error_critical(error):
                            raise
                        self.error('Removed query: {0}[{1}]. Error: {2}'
                                   .format(name, query, error))
                        self.queries.pop(name)
                        continue
                    if description:
                        raw_data[name] = (cursor.fetchall(),
                                          cursor.description)
                    else:
                        raw_data[name] = cursor.fetchall()
            finally:
                cursor.close()
            self.__connection.commit()
        except (MySQLdb.MySQLError, RuntimeError, TypeError,
                AttributeError) as error:
            self.error(error)
            try:
                self.__connection.close()
            except Exception:
                pass
            self.__connection = None
            return None
        return raw_data or None

    @staticmethod
    def __is_error_critical(error):
        return error.args[0] in (2006, 2013)
