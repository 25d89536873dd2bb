"""Tests of the independent implementation (tools/independent/): its gateway, its catalogue, and the suite
against each of its behaviours (the matrix, ``-m independent``)."""
