"""The test suite: unit/, integration/ (real servers on loopback), kernel/, browser/, helpers/."""
