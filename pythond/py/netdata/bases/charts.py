"""Charts, dimensions and chart variables of a python.d job.

A job's charts live in a Charts collection (``self.charts`` of a
service). Charts are announced lazily: the CHART/DIMENSION lines of a
chart are written on its first update that carries a value, and again
after a change (a new or hidden dimension, a refresh after obsoleting).
Every piece of text is handed to the collection's ``output`` callable,
one block at a time; by default that prints it.
"""

from bases.collection import safe_print

CHART_PARAMS = ['type', 'id', 'name', 'title', 'units', 'family', 'context',
                'chart_type', 'hidden']
DIMENSION_PARAMS = ['id', 'name', 'algorithm', 'multiplier', 'divisor',
                    'hidden']
VARIABLE_PARAMS = ['id', 'value']

CHART_TYPES = ['line', 'area', 'stacked']
DIMENSION_ALGORITHMS = ['absolute', 'incremental',
                        'percentage-of-absolute-row',
                        'percentage-of-incremental-row']

CHART_BEGIN = 'BEGIN {type}.{id} {since_last}\n'
CHART_CREATE = ("CHART {type}.{id} '{name}' '{title}' '{units}' "
                "'{family}' '{context}' {chart_type} {priority} "
                "{update_every} '{hidden}' 'python.d.plugin' "
                "'{module_name}'\n"
                "CLABEL '_collect_job' '{actual_job_name}' '0'\n"
                "CLABEL_COMMIT\n")
CHART_OBSOLETE = ("CHART {type}.{id} '{name}' '{title}' '{units}' "
                  "'{family}' '{context}' {chart_type} {priority} "
                  "{update_every} '{hidden} obsolete'\n")
DIMENSION_CREATE = ("DIMENSION '{id}' '{name}' {algorithm} {multiplier} "
                    "{divisor} '{hidden} {obsolete}'\n")
DIMENSION_SET = "SET '{id}' = {value}\n"
CHART_VARIABLE_SET = "VARIABLE CHART '{id}' = {value}\n"


class ChartError(Exception):
    """Base class of the errors of this module."""


class DuplicateItemError(ChartError):
    """A chart or dimension with this id already exists."""


class ItemTypeError(ChartError):
    """The parameters are not a list."""


class ItemValueError(ChartError):
    """The parameters are too few."""


def _write(text):
    safe_print(text)


class Charts(object):
    """The charts of one job, by id, in the order they were added."""

    def __init__(self, job_name, actual_job_name, priority, cleanup,
                 get_update_every, module_name, output=None):
        """job_name is a callable returning the chart type prefix."""
        self.job_name = job_name
        self.actual_job_name = actual_job_name
        self.priority = priority
        self.cleanup = cleanup
        self.get_update_every = get_update_every
        self.module_name = module_name
        self.output = output or _write
        self.charts = dict()

    def __len__(self):
        return len(self.charts)

    def __iter__(self):
        return iter(self.charts.values())

    def __repr__(self):
        return 'Charts({0})'.format(self)

    def __str__(self):
        return str([chart for chart in self.charts])

    def __contains__(self, item):
        return item in self.charts

    def __getitem__(self, item):
        return self.charts[item]

    def __delitem__(self, key):
        del self.charts[key]

    def __bool__(self):
        return bool(self.charts)

    __nonzero__ = __bool__

    def add_chart(self, params):
        """Add a chart from [id, name, title, units, family, context,
        chart_type(, hidden)] and return it."""
        params = [self.job_name()] + list(params)
        new_chart = Chart(params)
        new_chart.params['update_every'] = self.get_update_every()
        new_chart.params['priority'] = self.priority
        new_chart.params['module_name'] = self.module_name
        new_chart.params['actual_job_name'] = self.actual_job_name
        new_chart.output = self.output
        self.priority += 1
        self.charts[new_chart.id] = new_chart
        return new_chart

    def active_charts(self):
        """Return the ids of the charts that are not obsolete."""
        return [chart.id for chart in self if not chart.flags.obsoleted]


class ChartFlags(object):
    """State of a chart: push (announce before the next values), created,
    updated (had values last time), obsoleted."""

    def __init__(self):
        self.push = True
        self.created = False
        self.updated = False
        self.obsoleted = False

    def __repr__(self):
        return 'ChartFlags(push={0}, created={1}, updated={2}, ' \
               'obsoleted={3})'.format(self.push, self.created,
                                       self.updated, self.obsoleted)


class _Item(object):
    """Chart, Dimension and ChartVariable: their params are readable as
    attributes (chart.id, dimension.multiplier, ...)."""

    def __getattr__(self, item):
        params = self.__dict__.get('params')
        if params is None or item not in params:
            raise AttributeError("'{0}' has no attribute '{1}'"
                                 .format(type(self).__name__, item))
        return params[item]

    def __repr__(self):
        return '{0}({1})'.format(type(self).__name__, self.id)

    def __str__(self):
        return self.id


class Chart(_Item):
    """One chart: [type, id, name, title, units, family, context,
    chart_type(, hidden)]."""

    def __init__(self, params):
        if not isinstance(params, list):
            raise ItemTypeError("'chart' must be a list type")
        if not len(params) >= 8:
            raise ItemValueError("invalid value for 'chart', must be {0}"
                                 .format(CHART_PARAMS))
        self.params = dict(zip(CHART_PARAMS,
                               (p or str() for p in params)))
        self.name = '{type}.{id}'.format(type=self.params['type'],
                                         id=self.params['id'])
        if self.params.get('chart_type') not in CHART_TYPES:
            self.params['chart_type'] = 'absolute'
        hidden = str(self.params.get('hidden', ''))
        self.params['hidden'] = 'hidden' if hidden == 'hidden' else ''
        self.params.setdefault('priority', 0)
        self.params.setdefault('update_every', 1)
        self.params.setdefault('module_name', '')
        self.params.setdefault('actual_job_name', '')
        self.dimensions = list()
        self.variables = set()
        self.flags = ChartFlags()
        self.penalty = 0
        self.output = _write

    def __iter__(self):
        return iter(self.dimensions)

    def __contains__(self, item):
        return item in [dimension.id for dimension in self.dimensions]

    def add_variable(self, variable):
        """Add a chart variable from [id(, value)]."""
        self.variables.add(ChartVariable(variable))

    def add_dimension(self, dimension):
        """Add a dimension from [id, name, algorithm, multiplier, divisor,
        hidden] and return it; the chart is announced again."""
        dim = Dimension(dimension)
        if dim.id in self:
            raise DuplicateItemError("'{dimension}' already in '{chart}' "
                                     "dimensions".format(dimension=dim.id,
                                                         chart=self.name))
        self.refresh()
        self.dimensions.append(dim)
        return dim

    def del_dimension(self, dimension_id, hide=True):
        """Announce the dimension as obsolete (and hidden) and remove it."""
        if dimension_id not in self:
            return
        idx = self.dimensions.index(dimension_id)
        dimension = self.dimensions[idx]
        if hide:
            dimension.params['hidden'] = 'hidden'
        dimension.params['obsolete'] = 'obsolete'
        self.create()
        self.dimensions.remove(dimension)

    def hide_dimension(self, dimension_id, reverse=False):
        """Hide the dimension (or show it again, reverse=True)."""
        if dimension_id not in self:
            return
        idx = self.dimensions.index(dimension_id)
        dimension = self.dimensions[idx]
        dimension.params['hidden'] = '' if reverse else 'hidden'
        self.refresh()

    def create(self):
        """Write the chart's CHART, CLABEL and DIMENSION lines."""
        chart = CHART_CREATE.format(**self.params)
        dimensions = ''.join([dimension.create()
                              for dimension in self.dimensions])
        self.output(chart + dimensions)
        self.flags.push = False
        self.flags.created = True

    def can_be_updated(self, data):
        """Whether data holds a value for one of the dimensions."""
        for dim in self.dimensions:
            if dim.get_value(data) is not None:
                return True
        return False

    def update(self, data, interval):
        """Write the values of data for this chart; return whether any
        dimension had a value. A value int() refuses raises."""
        updated_dimensions, updated_variables = str(), str()
        for dim in self.dimensions:
            value = dim.get_value(data)
            if value is not None:
                updated_dimensions += dim.set(value)
        for var in self.variables:
            value = var.get_value(data)
            if value is not None:
                updated_variables += var.set(value)
        if updated_dimensions:
            since_last = interval if self.flags.updated else 0
            if self.flags.push:
                self.create()
            chart_begin = CHART_BEGIN.format(type=self.type, id=self.id,
                                             since_last=since_last)
            self.output(chart_begin + updated_dimensions + updated_variables
                        + 'END\n')
            self.flags.updated = True
            self.penalty = 0
        else:
            self.penalty += 1
            self.flags.updated = False
        return bool(updated_dimensions)

    def obsolete(self):
        """Announce the chart as obsolete."""
        self.flags.obsoleted = True
        if self.flags.created:
            self.output(CHART_OBSOLETE.format(**self.params))

    def refresh(self):
        """Announce the chart again before its next values."""
        self.penalty = 0
        self.flags.push = True
        self.flags.obsoleted = False


class Dimension(_Item):
    """One dimension: [id, name, algorithm, multiplier, divisor, hidden]."""

    def __init__(self, params):
        if not isinstance(params, list):
            raise ItemTypeError("'dimension' must be a list type")
        if not params:
            raise ItemValueError("invalid value for 'dimension', must be {0}"
                                 .format(DIMENSION_PARAMS))
        self.params = dict(zip(DIMENSION_PARAMS,
                               (p or str() for p in params)))
        self.params['name'] = self.params.get('name') or self.params['id']
        if self.params.get('algorithm') not in DIMENSION_ALGORITHMS:
            self.params['algorithm'] = 'absolute'
        if not isinstance(self.params.get('multiplier'), int) or \
                isinstance(self.params.get('multiplier'), bool):
            self.params['multiplier'] = 1
        if not isinstance(self.params.get('divisor'), int) or \
                isinstance(self.params.get('divisor'), bool):
            self.params['divisor'] = 1
        self.params.setdefault('hidden', '')
        self.params.setdefault('obsolete', '')

    def __eq__(self, other):
        if not isinstance(other, Dimension):
            return self.id == other
        return self.id == other.id

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(repr(self))

    def create(self):
        """Return the dimension's DIMENSION line."""
        params = dict(self.params)
        params['hidden'] = 'hidden' if self.params.get('hidden') else ''
        params['obsolete'] = 'obsolete' if self.params.get('obsolete') \
            else ''
        return DIMENSION_CREATE.format(**params)

    def set(self, value):
        """Return the SET line for value."""
        return DIMENSION_SET.format(id=self.id, value=value)

    def get_value(self, data):
        """Return int(data[id]), or None when it is missing or None."""
        try:
            return int(data[self.id])
        except (KeyError, TypeError):
            return None


class ChartVariable(_Item):
    """A chart variable: [id(, value)]."""

    def __init__(self, params):
        if not isinstance(params, list):
            raise ItemTypeError("'variable' must be a list type")
        if not params:
            raise ItemValueError("invalid value for 'variable' must be: {0}"
                                 .format(VARIABLE_PARAMS))
        self.params = dict(zip(VARIABLE_PARAMS, params))
        self.params.setdefault('value', None)

    def __bool__(self):
        return self.value is not None

    __nonzero__ = __bool__

    def __eq__(self, other):
        if isinstance(other, ChartVariable):
            return self.id == other.id
        return False

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(repr(self))

    def set(self, value):
        """Return the VARIABLE line for value."""
        return CHART_VARIABLE_SET.format(id=self.id, value=value)

    def get_value(self, data):
        """Return int(data[id]), or None when it is missing or None."""
        try:
            return int(data[self.id])
        except (KeyError, TypeError):
            return None
