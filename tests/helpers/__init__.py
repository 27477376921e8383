"""Building blocks shared by the test modules, and importable by the benchmarks too.

Import them as ``from tests.helpers.<module> import ...``: the project root is on the path
both under pytest (its root conftest sits in the ``tests`` package) and for
``python -m benchmarks`` run from the root.
"""
