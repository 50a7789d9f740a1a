"""Analytical CRM (分析型CRM, issue 5): value and Pareto, RFM, lifetime value, churn warning, lifecycle stage.

The statistical core is pure computation on NumPy arrays (``lifetime``, ``rfm``, ``churn``,
``lifecycle``); stored scores, the refresh job and the pages build on it.
"""
