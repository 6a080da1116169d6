"""Run tap-fibank for many logins on an orchestrator: Dagster (``definitions``) or Airflow.

``logins`` reads the file of logins, ``pipeline`` runs one login's extract-load with its own
Meltano state id under its lock (``locks``); both orchestrators use them.
"""
