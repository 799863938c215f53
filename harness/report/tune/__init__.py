"""The tune report: which int8 file to ship, per machine and batch (``model``), drawn on the console
and in markdown (``console``), as a Pareto chart (``chart``), and the files written out (``ship``)."""
