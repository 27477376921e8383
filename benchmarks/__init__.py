"""Benchmarks of mountsea-widgets against the offline simulator (real HTTP on loopback).

``make benchmark`` (or ``python -m benchmarks``) measures, in one run, each figure a person
feels, and prints it beside its target:

* polling (:mod:`benchmarks.polling`): how soon a finished image is available, and how many
  polls that costs next to a fixed 0.5 s poller on the very same simulated tasks;
* responsiveness (:mod:`benchmarks.responsiveness`): a trivial cell's round trip in a real
  kernel while a 4 x 16 comparison has 64 runs in flight;
* thumbnails (:mod:`benchmarks.thumbnails`): a 4096 x 4096 PNG result to a gallery thumbnail;
* memory (:mod:`benchmarks.memory`): how much a kernel grows with 500 finished 2K results;
* import (:mod:`benchmarks.imports`): ``import mountsea_widgets`` next to ``import ipywidgets``.

Figures are wall-clock times on whatever machine runs them: on a busy machine they are
pessimistic. The test suite never asserts times; it tests the structure these rely on.
"""
