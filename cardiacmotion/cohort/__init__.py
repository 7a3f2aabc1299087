"""Cohorts: ``cardiacmotion batch`` over many studies, locally or on a Dask cluster.

:func:`load_studies` finds the studies (a folder or a CSV/JSON manifest), :func:`run_cohort`
runs what ``analyze`` runs on each one not finished before and writes the cohort table
(``cohort.csv``, ``cohort.jsonl``, ``cohort.parquet`` with pyarrow) and a summary figure.
"""
from cardiacmotion.cohort.runner import CohortResult, run_cohort
from cardiacmotion.cohort.studies import Study, load_studies

__all__ = ["CohortResult", "Study", "load_studies", "run_cohort"]
