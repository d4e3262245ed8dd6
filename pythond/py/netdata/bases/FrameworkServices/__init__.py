"""Framework classes of python.d modules: SimpleService and the services
built on it (UrlService, SocketService, LogService, ExecutableService,
MySQLService)."""
