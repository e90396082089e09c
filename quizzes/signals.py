"""Signals other apps listen to.

``course_completed`` is sent synchronously, inside the request, right after a quiz attempt that leaves every
published module of the course completed has been committed. It is sent on the transition *and again on every
later pass* of a quiz of an already-completed course, so a receiver that failed once gets another chance:
receivers must be idempotent (issue a certificate only if none exists yet).

Keyword arguments: ``user``, ``course``, ``attempt`` (the sealed :class:`quizzes.models.Attempt`) and
``newly_completed`` (True only on the attempt that completed the course). ``sender`` is ``Attempt``.
The signal is sent with ``send_robust``: a failing receiver is logged and never undoes the learner's pass.
"""
from django.dispatch import Signal

course_completed = Signal()
