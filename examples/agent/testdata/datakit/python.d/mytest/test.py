"""A collector written against DataKit's documented report() call."""
from datakit_framework import DataKitFramework


class SeedLayout(DataKitFramework):
    name = 'seed_layout'
    interval = 10

    def run(self):
        points = [
            {'measurement': 'seed_layout',
             'tags': {'layout': 'datakit'},
             'fields': {'runs': 1, 'ratio': 0.5, 'note': 'from python.d'}},
        ]
        return self.report({'M': points, 'input': 'seed_layout'})
