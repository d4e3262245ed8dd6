"""YAML loading helpers of bases.loaders (need PyYAML, python3-yaml)."""

from collections import OrderedDict

DEFAULT_MAPPING_TAG = 'tag:yaml.org,2002:map'


def _yaml():
    try:
        import yaml
    except ImportError:
        raise ImportError("bases.loaders needs PyYAML: install python3-yaml "
                          "(pip install pyyaml)")
    return yaml


def _ordered_loader(yaml):
    class OrderedSafeLoader(yaml.SafeLoader):
        pass

    def construct(loader, node):
        loader.flatten_mapping(node)
        return OrderedDict(loader.construct_pairs(node))

    OrderedSafeLoader.add_constructor(DEFAULT_MAPPING_TAG, construct)
    return OrderedSafeLoader


def load_yaml(stream):
    """Parse YAML from a str, bytes or file with the safe loader, mappings
    as OrderedDict, and return the value; a YAML error is raised."""
    yaml = _yaml()
    return yaml.load(stream, Loader=_ordered_loader(yaml))


def load_config(file_name):
    """Parse the YAML file file_name and return its value."""
    with open(file_name, 'r') as stream:
        return load_yaml(stream)
