"""Exploration: the source's promises (harness/source_model/promises.py) checked on generated mail and
conversations.

Owns the time budgets (``budgets``), the explored world's values (``model``), the Hypothesis strategies
of senders, recipients, definitions and content (``strategies``), turning what a recipient got into
broken promises (``checks``, judged by harness/conformance/judge.py and harness/policy.py), the state
machine of conversations (``machine``), running it within a budget and collecting shrunk
counterexamples (``explorer``) and writing each as a reproduction a person can run
(``minimise/reproduction``). It reaches the target only through ``connect(profile)``.
"""
